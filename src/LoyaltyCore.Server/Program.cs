using LoyaltyCore.Server.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddLoyaltyCore();

var app = builder.Build();
app.MapLoyaltyCore();
return await app.RunLoyaltyCoreAsync(args);
