using Dapper;

namespace LoyaltyCore.Server.Ledger;

/// <summary>A partner as the database keeps it (settable, as <see cref="HistoryEntry"/>).</summary>
internal sealed class StoredPartner
{
    public string PartnerId { get; set; } = string.Empty;

    public string Name { get; set; } = string.Empty;

    public bool Suspended { get; set; }

    public long PricePerThousandPointsMinor { get; set; }

    public long CreditLimitPoints { get; set; }

    public long CreatedAtMs { get; set; }
}

/// <summary>A partner key as the database keeps it: the SHA-256 of its secret, never the secret.</summary>
internal sealed class StoredPartnerKey
{
    public string KeyId { get; set; } = string.Empty;

    public string PartnerId { get; set; } = string.Empty;

    public byte[] SecretSha256 { get; set; } = [];

    public long CreatedAtMs { get; set; }

    public long? ExpiresAtMs { get; set; }

    public long? RevokedAtMs { get; set; }

    /// <summary>Whether its partner is suspended (read with the key, for authentication).</summary>
    public bool Suspended { get; set; }
}

/// <summary>Partners and their keys, in the ledger database (both dialects take the same statements).</summary>
internal sealed class PartnerStore(LedgerDatabase database)
{
    private const string PartnerColumns = """
        partner_id AS PartnerId, name AS Name, suspended AS Suspended,
        price_per_thousand_points_minor AS PricePerThousandPointsMinor, credit_limit_points AS CreditLimitPoints,
        created_at_ms AS CreatedAtMs
        """;

    private const string KeyColumns = """
        k.key_id AS KeyId, k.partner_id AS PartnerId, k.secret_sha256 AS SecretSha256, k.created_at_ms AS CreatedAtMs,
        k.expires_at_ms AS ExpiresAtMs, k.revoked_at_ms AS RevokedAtMs, p.suspended AS Suspended
        """;

    /// <returns>False when the id is taken.</returns>
    public async Task<bool> CreateAsync(StoredPartner partner, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO partners (partner_id, name, suspended, price_per_thousand_points_minor, credit_limit_points, created_at_ms)
            VALUES (@PartnerId, @Name, @Suspended, @PricePerThousandPointsMinor, @CreditLimitPoints, @CreatedAtMs)
            ON CONFLICT (partner_id) DO NOTHING
            """, partner, cancellationToken: cancellationToken)) == 1;
    }

    public async Task<StoredPartner?> GetAsync(string partnerId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<StoredPartner>(new CommandDefinition(
            $"SELECT {PartnerColumns} FROM partners WHERE partner_id = @PartnerId", new { PartnerId = partnerId }, cancellationToken: cancellationToken));
    }

    public async Task<IReadOnlyList<StoredPartner>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var partners = await connection.QueryAsync<StoredPartner>(new CommandDefinition(
            $"SELECT {PartnerColumns} FROM partners ORDER BY partner_id", cancellationToken: cancellationToken));
        return partners.AsList();
    }

    /// <returns>False for an unknown partner.</returns>
    public async Task<bool> UpdateAsync(string partnerId, string name, long pricePerThousandPointsMinor, long creditLimitPoints, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE partners SET name = @Name, price_per_thousand_points_minor = @Price, credit_limit_points = @Credit WHERE partner_id = @PartnerId
            """, new { PartnerId = partnerId, Name = name, Price = pricePerThousandPointsMinor, Credit = creditLimitPoints }, cancellationToken: cancellationToken)) == 1;
    }

    /// <returns>False for an unknown partner.</returns>
    public async Task<bool> SetSuspendedAsync(string partnerId, bool suspended, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE partners SET suspended = @Suspended WHERE partner_id = @PartnerId",
            new { PartnerId = partnerId, Suspended = suspended }, cancellationToken: cancellationToken)) == 1;
    }

    public async Task InsertKeyAsync(StoredPartnerKey key, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO partner_keys (key_id, partner_id, secret_sha256, created_at_ms, expires_at_ms, revoked_at_ms)
            VALUES (@KeyId, @PartnerId, @SecretSha256, @CreatedAtMs, @ExpiresAtMs, @RevokedAtMs)
            """, key, cancellationToken: cancellationToken));
    }

    /// <summary>A key with its partner's suspension, by key id.</summary>
    public async Task<StoredPartnerKey?> KeyAsync(string keyId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<StoredPartnerKey>(new CommandDefinition(
            $"SELECT {KeyColumns} FROM partner_keys k JOIN partners p ON p.partner_id = k.partner_id WHERE k.key_id = @KeyId",
            new { KeyId = keyId }, cancellationToken: cancellationToken));
    }

    public async Task<IReadOnlyList<StoredPartnerKey>> KeysAsync(string partnerId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var keys = await connection.QueryAsync<StoredPartnerKey>(new CommandDefinition(
            $"SELECT {KeyColumns} FROM partner_keys k JOIN partners p ON p.partner_id = k.partner_id WHERE k.partner_id = @PartnerId ORDER BY k.created_at_ms DESC, k.key_id",
            new { PartnerId = partnerId }, cancellationToken: cancellationToken));
        return keys.AsList();
    }

    /// <summary>Brings a key's end forward to <paramref name="expiresAtMs"/> (never later than it was).</summary>
    public async Task ExpireKeyAsync(string keyId, long expiresAtMs, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE partner_keys SET expires_at_ms = @ExpiresAtMs WHERE key_id = @KeyId AND (expires_at_ms IS NULL OR expires_at_ms > @ExpiresAtMs)",
            new { KeyId = keyId, ExpiresAtMs = expiresAtMs }, cancellationToken: cancellationToken));
    }

    /// <summary>Revokes a key, keeping the first revocation's time.</summary>
    public async Task RevokeKeyAsync(string keyId, long atMs, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE partner_keys SET revoked_at_ms = @At WHERE key_id = @KeyId AND revoked_at_ms IS NULL",
            new { KeyId = keyId, At = atMs }, cancellationToken: cancellationToken));
    }
}
