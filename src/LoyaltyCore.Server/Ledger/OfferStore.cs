using Dapper;

namespace LoyaltyCore.Server.Ledger;

/// <summary>An offer as the database keeps it (settable, as <see cref="HistoryEntry"/>).</summary>
internal sealed class StoredOffer
{
    public string PartnerId { get; set; } = string.Empty;

    public string OfferId { get; set; } = string.Empty;

    public string Title { get; set; } = string.Empty;

    public string Description { get; set; } = string.Empty;

    public long StartsAtMs { get; set; }

    public long EndsAtMs { get; set; }

    /// <summary>Comma-separated, as the other lists.</summary>
    public string Tiers { get; set; } = string.Empty;

    public string Segments { get; set; } = string.Empty;

    public string Memberships { get; set; } = string.Empty;

    /// <summary>Channel numbers, comma-separated.</summary>
    public string Channels { get; set; } = string.Empty;

    public long FixedPoints { get; set; }

    public long PointsPerUnit { get; set; }

    public long PerMinor { get; set; }

    public long BudgetPoints { get; set; }

    public long PerMemberLimit { get; set; }

    /// <summary>The proto's <c>OfferState</c> number.</summary>
    public long State { get; set; }

    public long CreatedAtMs { get; set; }

    public long UpdatedAtMs { get; set; }
}

/// <summary>Partners' offers, always read and written under the partner that owns them.</summary>
internal sealed class OfferStore(LedgerDatabase database)
{
    private const string Columns = """
        partner_id AS PartnerId, offer_id AS OfferId, title AS Title, description AS Description,
        starts_at_ms AS StartsAtMs, ends_at_ms AS EndsAtMs, tiers AS Tiers, segments AS Segments,
        memberships AS Memberships, channels AS Channels, fixed_points AS FixedPoints, points_per_unit AS PointsPerUnit,
        per_minor AS PerMinor, budget_points AS BudgetPoints, per_member_limit AS PerMemberLimit, state AS State,
        created_at_ms AS CreatedAtMs, updated_at_ms AS UpdatedAtMs
        """;

    /// <returns>False when the partner already has an offer of that id.</returns>
    public async Task<bool> CreateAsync(StoredOffer offer, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition("""
            INSERT INTO offers (partner_id, offer_id, title, description, starts_at_ms, ends_at_ms, tiers, segments, memberships,
                channels, fixed_points, points_per_unit, per_minor, budget_points, per_member_limit, state, created_at_ms, updated_at_ms)
            VALUES (@PartnerId, @OfferId, @Title, @Description, @StartsAtMs, @EndsAtMs, @Tiers, @Segments, @Memberships,
                @Channels, @FixedPoints, @PointsPerUnit, @PerMinor, @BudgetPoints, @PerMemberLimit, @State, @CreatedAtMs, @UpdatedAtMs)
            ON CONFLICT (partner_id, offer_id) DO NOTHING
            """, offer, cancellationToken: cancellationToken)) == 1;
    }

    /// <summary>The partner's offers that have not ended.</summary>
    public async Task<long> CountOpenAsync(string partnerId, long endedState, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM offers WHERE partner_id = @PartnerId AND state <> @Ended", new { PartnerId = partnerId, Ended = endedState }, cancellationToken: cancellationToken));
    }

    public async Task<StoredOffer?> GetAsync(string partnerId, string offerId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<StoredOffer>(new CommandDefinition(
            $"SELECT {Columns} FROM offers WHERE partner_id = @PartnerId AND offer_id = @OfferId",
            new { PartnerId = partnerId, OfferId = offerId }, cancellationToken: cancellationToken));
    }

    public async Task<IReadOnlyList<StoredOffer>> ListAsync(string partnerId, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var offers = await connection.QueryAsync<StoredOffer>(new CommandDefinition(
            $"SELECT {Columns} FROM offers WHERE partner_id = @PartnerId ORDER BY offer_id", new { PartnerId = partnerId }, cancellationToken: cancellationToken));
        return offers.AsList();
    }

    /// <summary>Sets an offer's state alone (its content untouched), unless it has ended.</summary>
    /// <returns>False when the offer has ended (or does not exist).</returns>
    public async Task<bool> SetStateAsync(string partnerId, string offerId, long state, long updatedAtMs, long endedState, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE offers SET state = @State, updated_at_ms = @UpdatedAtMs WHERE partner_id = @PartnerId AND offer_id = @OfferId AND state <> @Ended",
            new { PartnerId = partnerId, OfferId = offerId, State = state, UpdatedAtMs = updatedAtMs, Ended = endedState }, cancellationToken: cancellationToken)) == 1;
    }

    /// <summary>The offers of partners not suspended that are active and in their window at <paramref name="nowMs"/>.</summary>
    public async Task<IReadOnlyList<StoredOffer>> LiveAsync(long nowMs, long activeState, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        var offers = await connection.QueryAsync<StoredOffer>(new CommandDefinition(
            $"SELECT {Columns} FROM offers o WHERE state = @Active AND starts_at_ms <= @Now AND ends_at_ms > @Now AND EXISTS (SELECT 1 FROM partners p WHERE p.partner_id = o.partner_id AND p.suspended = @Suspended) ORDER BY partner_id, offer_id",
            new { Active = activeState, Now = nowMs, Suspended = false }, cancellationToken: cancellationToken));
        return offers.AsList();
    }

    /// <summary>Writes every field an update or a change of state may change, unless the offer has ended.</summary>
    /// <param name="endedState">The state number of an ended offer, which nothing changes.</param>
    /// <returns>False when the offer has ended (or does not exist).</returns>
    public async Task<bool> UpdateAsync(StoredOffer offer, long endedState, CancellationToken cancellationToken)
    {
        await using var connection = await database.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE offers SET title = @Title, description = @Description, starts_at_ms = @StartsAtMs, ends_at_ms = @EndsAtMs,
                tiers = @Tiers, segments = @Segments, memberships = @Memberships, channels = @Channels, fixed_points = @FixedPoints,
                points_per_unit = @PointsPerUnit, per_minor = @PerMinor, budget_points = @BudgetPoints,
                per_member_limit = @PerMemberLimit, updated_at_ms = @UpdatedAtMs
            WHERE partner_id = @PartnerId AND offer_id = @OfferId AND state <> @Ended
            """, new
        {
            offer.PartnerId, offer.OfferId, offer.Title, offer.Description, offer.StartsAtMs, offer.EndsAtMs, offer.Tiers, offer.Segments,
            offer.Memberships, offer.Channels, offer.FixedPoints, offer.PointsPerUnit, offer.PerMinor, offer.BudgetPoints, offer.PerMemberLimit,
            offer.UpdatedAtMs, Ended = endedState,
        }, cancellationToken: cancellationToken)) == 1;
    }
}
