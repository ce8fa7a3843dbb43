using LoyaltyCore.Server.Hosting;

// Settings and the sample program ship beside the binary: find them wherever the server is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddLoyaltyCore(args);

var app = builder.Build();
app.MapLoyaltyCore();
return await app.RunLoyaltyCoreAsync(args);
