using LoyaltyCore.Server.Hosting;

// Settings and the sample program ship beside the binary: find them wherever the server is started from.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.AddLoyaltyCore(args);

// Disposed on the way out: the console logger writes from a queue, and an ops command's last lines must not be lost.
await using var app = builder.Build();
app.MapLoyaltyCore();
return await app.RunLoyaltyCoreAsync(args);
