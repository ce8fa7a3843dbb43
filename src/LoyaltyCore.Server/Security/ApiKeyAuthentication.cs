using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.Security;

internal static class ClientRoles
{
    /// <summary>Tills, web shops and apps: score, redeem, enrol and read members.</summary>
    public const string Pos = "pos";

    /// <summary>Program administration.</summary>
    public const string Admin = "admin";

    /// <summary>Customer support: corrections to a member's standing (a tier set by hand).</summary>
    public const string Support = "support";

    /// <summary>A partner, with a key issued by PartnerAdminService (never configured): its own offers and awards.</summary>
    public const string Partner = "partner";
}

public sealed class SecurityOptions
{
    public const string Section = "Security";

    /// <summary>Clients allowed to call the server, each with its key and roles.</summary>
    [Required]
    [MinLength(1, ErrorMessage = "At least one client must be configured under Security:Clients.")]
    public List<ApiClient> Clients { get; set; } = [];
}

public sealed class ApiClient
{
    public const int MaxKeyLength = 128;

    [Required]
    public string Id { get; set; } = string.Empty;

    /// <summary>Sent as <c>authorization: Bearer KEY</c>.</summary>
    [Required]
    [MinLength(16)]
    [MaxLength(MaxKeyLength)]
    public string Key { get; set; } = string.Empty;

    [MinLength(1)]
    public List<string> Roles { get; set; } = [];
}

internal sealed class ApiKeyAuthenticationOptions : AuthenticationSchemeOptions
{
    public const string Scheme = "ApiKey";
}

/// <summary>
/// The configured clients by the SHA-256 of their key, with their principals built once: a lookup by hash does
/// not leak how much of a guessed key matched, and authenticating allocates no new identity per call.
/// </summary>
internal sealed class ApiKeyDirectory
{
    private readonly Dictionary<KeyHash, AuthenticationTicket> _tickets = [];

    public ApiKeyDirectory(IOptions<SecurityOptions> options)
    {
        foreach (var client in options.Value.Clients)
        {
            var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, client.Id), new(ClaimTypes.Name, client.Id) };
            claims.AddRange(client.Roles.Select(role => new Claim(ClaimTypes.Role, role)));
            var principal = new ClaimsPrincipal(new ClaimsIdentity(claims, ApiKeyAuthenticationOptions.Scheme));
            _tickets[Hash(client.Key)] = new AuthenticationTicket(principal, ApiKeyAuthenticationOptions.Scheme);
        }
    }

    public AuthenticationTicket? Find(ReadOnlySpan<char> key) =>
        key.Length is 0 or > ApiClient.MaxKeyLength ? null : _tickets.GetValueOrDefault(Hash(key));

    private static KeyHash Hash(ReadOnlySpan<char> key)
    {
        Span<byte> utf8 = stackalloc byte[ApiClient.MaxKeyLength * 3];
        var length = Encoding.UTF8.GetBytes(key, utf8);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..length], hash);
        return System.Runtime.InteropServices.MemoryMarshal.Read<KeyHash>(hash);
    }

    /// <summary>A SHA-256 as a value, so looking a key up allocates nothing.</summary>
    private readonly record struct KeyHash(ulong A, ulong B, ulong C, ulong D);
}

internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<ApiKeyAuthenticationOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ApiKeyDirectory directory,
    PartnerKeys partners) : AuthenticationHandler<ApiKeyAuthenticationOptions>(options, loggerFactory, encoder)
{
    private const string BearerPrefix = "Bearer ";
    private static readonly Task<AuthenticateResult> NoKey = Task.FromResult(AuthenticateResult.NoResult());
    private static readonly Task<AuthenticateResult> UnknownKey = Task.FromResult(AuthenticateResult.Fail("Unknown API key."));

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return NoKey;
        }

        var key = header.AsSpan(BearerPrefix.Length).Trim();
        if (PartnerKeys.IsPartnerKey(key))
        {
            return AuthenticatePartnerAsync(key.ToString());
        }

        // Configured clients (tills, support, admin) are found in memory: no await on the hot path.
        var ticket = directory.Find(key);
        return ticket is null ? UnknownKey : Task.FromResult(AuthenticateResult.Success(ticket));
    }

    private async Task<AuthenticateResult> AuthenticatePartnerAsync(string key) =>
        await partners.AuthenticateAsync(key, Context.RequestAborted) is { } ticket ? AuthenticateResult.Success(ticket) : AuthenticateResult.Fail("Unknown API key.");

    // gRPC clients read the outcome from grpc-status, not from the HTTP status: answer as a gRPC call that failed
    // (HTTP 200, trailers-only), so every client shows the code and the message rather than "HTTP status 401".
    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        GrpcRefusal.WriteAsync(Context, Grpc.Core.StatusCode.Unauthenticated,
            "Missing or unknown API key: send 'authorization: Bearer <key>' with a key configured under Security:Clients, or a partner key that is neither revoked nor expired.");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        GrpcRefusal.WriteAsync(Context, Grpc.Core.StatusCode.PermissionDenied,
            $"The client '{Context.User.Identity?.Name}' does not have the role this call needs.");
}

/// <summary>A gRPC call refused before it reached its service, written as gRPC writes a status-only answer.</summary>
internal static class GrpcRefusal
{
    public static Task WriteAsync(Microsoft.AspNetCore.Http.HttpContext context, Grpc.Core.StatusCode code, string message)
    {
        // Refused before any handler ran, yet a call the client made: counted with the rest, under its own code.
        if (context.GetEndpoint()?.Metadata.GetMetadata<Grpc.AspNetCore.Server.GrpcMethodMetadata>() is { } grpc
            && context.RequestServices.GetService<Observability.LoyaltyMetrics>() is { } metrics)
        {
            var call = metrics.Grpc(grpc.Method.FullName, Observability.GrpcMethodMetrics.TypeName(grpc.Method.Type));
            call.Started.Inc();
            call.Handled(code).Inc();
        }

        var response = context.Response;
        if (!context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) ?? true)
        {
            // An HTTP/JSON call: the HTTP status that goes with the code, and the google.rpc.Status as JSON, as the
            // transcoded API answers its own errors.
            response.StatusCode = code switch
            {
                Grpc.Core.StatusCode.Unauthenticated => StatusCodes.Status401Unauthorized,
                Grpc.Core.StatusCode.ResourceExhausted => StatusCodes.Status429TooManyRequests,
                _ => StatusCodes.Status403Forbidden,
            };
            return response.WriteAsJsonAsync(new { code = (int)code, message, details = Array.Empty<object>() }, context.RequestAborted);
        }

        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "application/grpc";
        response.Headers["grpc-status"] = ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["grpc-message"] = Uri.EscapeDataString(message);
        return Task.CompletedTask;
    }
}
