using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using LoyaltyCore.Server.Ledger;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace LoyaltyCore.Server.Security;

public sealed class PartnerOptions
{
    public const string Section = "Partners";

    /// <summary>How long a server trusts what it read of a key (a revocation elsewhere reaches it within this).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan KeyCacheTtl { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a rotated key keeps working when the rotation names no overlap.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan DefaultRotationOverlap { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Offers a partner may have that have not ended (each is listed to members and counted in metrics).</summary>
    [Range(1, 100_000)]
    public int MaxOpenOffers { get; set; } = 100;

    /// <summary>Calls a partner may make per second, on average, on each server (PartnerService).</summary>
    [Range(1, 1_000_000)]
    public int RequestsPerSecond { get; set; } = 50;

    /// <summary>Calls a partner may make at once above that rate, on each server.</summary>
    [Range(1, 1_000_000)]
    public int Burst { get; set; } = 100;
}

/// <summary>A key issued to a partner: its public id, the whole key (shown once) and the SHA-256 of its secret (kept).</summary>
internal sealed record NewPartnerKey(string KeyId, string ApiKey, byte[] SecretSha256);

/// <summary>
/// Partner API keys, <c>lcp_&lt;key id&gt;_&lt;secret&gt;</c>: the database keeps the SHA-256 of the secret, found by
/// the public key id and compared in constant time. What a server read of a key is trusted for
/// <see cref="PartnerOptions.KeyCacheTtl"/>, so a partner's calls cost no database read each; changes made on this
/// server are seen at once.
/// </summary>
internal sealed class PartnerKeys(PartnerStore store, TimeProvider time, IOptions<PartnerOptions> options)
{
    public const string Prefix = "lcp_";
    public const string PartnerIdClaim = "partner_id";

    // Unknown key ids are remembered too (so a flood of bad keys costs no database read each), up to a bound.
    private const int MaxCached = 10_000;
    private readonly ConcurrentDictionary<string, Cached> _cache = new(StringComparer.Ordinal);

    public static bool IsPartnerKey(ReadOnlySpan<char> token) => token.StartsWith(Prefix, StringComparison.Ordinal);

    public static NewPartnerKey Create()
    {
        var keyId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var secret = Base64UrlSecret();
        return new NewPartnerKey(keyId, $"{Prefix}{keyId}_{secret}", Hash(secret));
    }

    /// <returns>The partner's ticket (without the partner role while it is suspended); null for a key that does not authenticate.</returns>
    public async Task<AuthenticationTicket?> AuthenticateAsync(string token, CancellationToken cancellationToken)
    {
        if (token.Length > ApiClient.MaxKeyLength || !IsPartnerKey(token))
        {
            return null;
        }

        var separator = token.IndexOf('_', Prefix.Length);
        if (separator <= Prefix.Length)
        {
            return null;
        }

        var key = await FindAsync(token[Prefix.Length..separator], cancellationToken);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (key is null || key.RevokedAtMs <= now || key.ExpiresAtMs <= now
            || !CryptographicOperations.FixedTimeEquals(Hash(token.AsSpan(separator + 1)), key.SecretSha256))
        {
            return null;
        }

        var name = "partner:" + key.PartnerId;
        var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, name), new(ClaimTypes.Name, name), new(PartnerIdClaim, key.PartnerId) };
        if (!key.Suspended)
        {
            claims.Add(new Claim(ClaimTypes.Role, ClientRoles.Partner));
        }

        return new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, ApiKeyAuthenticationOptions.Scheme)), ApiKeyAuthenticationOptions.Scheme);
    }

    /// <summary>Forgets what this server read of a key, after changing it.</summary>
    public void Forget(string keyId) => _cache.TryRemove(keyId, out _);

    /// <summary>Forgets what this server read of every key of a partner (suspended or reactivated).</summary>
    public void ForgetPartner(string partnerId)
    {
        foreach (var (keyId, cached) in _cache)
        {
            if (cached.Key?.PartnerId == partnerId)
            {
                _cache.TryRemove(keyId, out _);
            }
        }
    }

    private async Task<StoredPartnerKey?> FindAsync(string keyId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (_cache.TryGetValue(keyId, out var cached) && now - cached.ReadAtMs < options.Value.KeyCacheTtl.TotalMilliseconds)
        {
            return cached.Key;
        }

        var key = await store.KeyAsync(keyId, cancellationToken);
        if (_cache.Count >= MaxCached)
        {
            // A flood of made-up key ids: start over rather than stop remembering (the real keys are read again once).
            _cache.Clear();
        }

        _cache[keyId] = new Cached(key, now);

        return key;
    }

    private static byte[] Hash(ReadOnlySpan<char> secret)
    {
        Span<byte> utf8 = stackalloc byte[ApiClient.MaxKeyLength * 3];
        var length = Encoding.UTF8.GetBytes(secret[..Math.Min(secret.Length, ApiClient.MaxKeyLength)], utf8);
        return SHA256.HashData(utf8[..length]);
    }

    private static string Base64UrlSecret() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private sealed record Cached(StoredPartnerKey? Key, long ReadAtMs);
}
