using LoyaltyCore.Engine.Scoring;
using StackExchange.Redis;

namespace LoyaltyCore.Server.HotState;

/// <summary>A member's hot state as last seen; <see cref="Version"/> changes with every write.</summary>
/// <param name="Sequence">The number of the member's last change (its ledger row's member sequence).</param>
/// <param name="ChangeId">The id of that change (its ledger row's change id; 0 when unknown), which the next one names.</param>
internal sealed record MemberSnapshot(string Version, MemberState State, long Sequence = 0, long ChangeId = 0);

/// <summary>
/// The fields of a member's state hash. Engine counters (<c>k.*</c>) are stored as they are named; everything else has
/// a short name of its own. Segments are one comma-separated field (segment names cannot contain commas).
/// </summary>
internal static class MemberFields
{
    public const string Version = "v";
    public const string Balance = "b";
    public const string LifetimeSpend = "s";
    public const string Tier = "t";
    public const string Purchases = "n";
    public const string LoadedAt = "h";
    public const string EnrolledAt = "e";
    public const string Segments = "g";
    public const string Membership = "ms";
    public const string MembershipExpiresAt = "mx";
    public const string ReferenceRevenue = "rv";
    public const string ReferredBy = "rb";
    public const string Birthday = "bd";
    public const string TierFloor = "tf";
    public const string TierFloorUntil = "tfu";
    public const string Sequence = "q";
    public const string ChangeId = "c";

    public static MemberSnapshot Parse(IEnumerable<KeyValuePair<string, RedisValue>> fields)
    {
        var version = string.Empty;
        long balance = 0, spend = 0, purchases = 0, enrolledAt = 0, membershipExpiresAt = 0, referenceRevenue = 0;
        string tier = string.Empty;
        string? membership = null, referredBy = null, birthday = null, tierFloor = null;
        var tierFloorUntil = 0;
        long sequence = 0, changeId = 0;
        string[] segments = [];
        Dictionary<string, long>? counters = null;
        foreach (var (name, value) in fields)
        {
            switch (name)
            {
                case Version: version = value!; break;
                case Balance: balance = (long)value; break;
                case LifetimeSpend: spend = (long)value; break;
                case Tier: tier = value!; break;
                case Purchases: purchases = (long)value; break;
                case EnrolledAt: enrolledAt = (long)value; break;
                case Segments: segments = ((string)value!).Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                case Membership: membership = value.IsNullOrEmpty ? null : (string?)value; break;
                case MembershipExpiresAt: membershipExpiresAt = (long)value; break;
                case ReferenceRevenue: referenceRevenue = (long)value; break;
                case ReferredBy: referredBy = value.IsNullOrEmpty ? null : (string?)value; break;
                case Birthday: birthday = value.IsNullOrEmpty ? null : (string?)value; break;
                case TierFloor: tierFloor = value.IsNullOrEmpty ? null : (string?)value; break;
                case TierFloorUntil: tierFloorUntil = (int)value; break;
                case Sequence: sequence = (long)value; break;
                case ChangeId: changeId = (long)value; break;
                default:
                    if (name.StartsWith(CounterKeys.Prefix, StringComparison.Ordinal))
                    {
                        (counters ??= new Dictionary<string, long>(StringComparer.Ordinal))[name] = (long)value;
                    }

                    break;
            }
        }

        return new MemberSnapshot(version, new MemberState
        {
            Balance = balance,
            LifetimeSpendMinor = spend,
            Tier = tier,
            Purchases = purchases,
            EnrolledAt = DateTimeOffset.FromUnixTimeMilliseconds(enrolledAt),
            Segments = segments,
            Membership = membership,
            MembershipExpiresAt = DateTimeOffset.FromUnixTimeMilliseconds(membershipExpiresAt),
            ReferenceRevenueMinor = referenceRevenue,
            ReferredBy = referredBy,
            Birthday = birthday,
            TierFloor = tierFloor,
            TierFloorUntil = tierFloorUntil,
            Counters = counters ?? new Dictionary<string, long>(),
        }, sequence, changeId);
    }

    /// <summary>The fields that store <paramref name="state"/>, as the load script takes them.</summary>
    public static List<RedisValue> Serialize(MemberState state, string version, long sequence, long changeId)
    {
        var values = new List<RedisValue>(28 + (state.Counters.Count * 2))
        {
            Version, version,
            Sequence, sequence,
            ChangeId, changeId,
            Balance, state.Balance,
            LifetimeSpend, state.LifetimeSpendMinor,
            Tier, state.Tier,
            Purchases, state.Purchases,
            EnrolledAt, state.EnrolledAt.ToUnixTimeMilliseconds(),
            Segments, string.Join(',', state.Segments),
            Membership, state.Membership ?? string.Empty,
            MembershipExpiresAt, state.MembershipExpiresAt.ToUnixTimeMilliseconds(),
            ReferenceRevenue, state.ReferenceRevenueMinor,
            ReferredBy, state.ReferredBy ?? string.Empty,
            Birthday, state.Birthday ?? string.Empty,
            TierFloor, state.TierFloor ?? string.Empty,
            TierFloorUntil, state.TierFloorUntil,
        };
        foreach (var (name, value) in state.Counters)
        {
            values.Add(name);
            values.Add(value);
        }

        return values;
    }
}

internal static class MemberStateChanges
{
    /// <summary>
    /// The fields a change writes, with their values in <paramref name="after"/> (the state <see cref="Apply"/>
    /// computed): an increment becomes the value it leads to, so the script writes every field in one command.
    /// The change's number and id go with them.
    /// </summary>
    public static List<KeyValuePair<string, RedisValue>> Writes(
        MemberSnapshot after,
        IReadOnlyList<KeyValuePair<string, long>> increments,
        IReadOnlyList<KeyValuePair<string, string>> sets)
    {
        var writes = new List<KeyValuePair<string, RedisValue>>(increments.Count + sets.Count + 2)
        {
            new(MemberFields.Sequence, after.Sequence),
            new(MemberFields.ChangeId, after.ChangeId),
        };
        var state = after.State;
        foreach (var (name, _) in increments)
        {
            writes.Add(new(name, name switch
            {
                MemberFields.LifetimeSpend => state.LifetimeSpendMinor,
                MemberFields.Purchases => state.Purchases,
                _ => state.Counters.GetValueOrDefault(name),
            }));
        }

        foreach (var (name, value) in sets)
        {
            writes.Add(new(name, value));
        }

        return writes;
    }

    /// <summary>The state after a transaction, as the apply script leaves it, so the next call needs no read.</summary>
    /// <param name="sequence">The change's number (see <see cref="MemberSnapshot.Sequence"/>).</param>
    /// <param name="changeId">The change's id (see <see cref="MemberSnapshot.ChangeId"/>).</param>
    public static MemberSnapshot Apply(
        MemberSnapshot before,
        string version,
        long sequence,
        long changeId,
        long balanceDelta,
        IReadOnlyList<KeyValuePair<string, long>> increments,
        IReadOnlyList<KeyValuePair<string, string>> sets,
        IReadOnlyList<string> deletes)
    {
        var state = before.State;
        long spend = state.LifetimeSpendMinor, purchases = state.Purchases, expires = state.MembershipExpiresAt.ToUnixTimeMilliseconds(), revenue = state.ReferenceRevenueMinor;
        var tier = state.Tier;
        var membership = state.Membership;
        var segments = state.Segments;
        var birthday = state.Birthday;
        var tierFloor = state.TierFloor;
        var tierFloorUntil = state.TierFloorUntil;
        Dictionary<string, long>? counters = null;
        foreach (var (name, delta) in increments)
        {
            switch (name)
            {
                case MemberFields.LifetimeSpend: spend += delta; break;
                case MemberFields.Purchases: purchases += delta; break;
                default:
                    counters ??= new Dictionary<string, long>(state.Counters, StringComparer.Ordinal);
                    counters[name] = counters.GetValueOrDefault(name) + delta;
                    break;
            }
        }

        foreach (var (name, value) in sets)
        {
            switch (name)
            {
                case MemberFields.Tier: tier = value; break;
                case MemberFields.Segments: segments = value.Split(',', StringSplitOptions.RemoveEmptyEntries); break;
                case MemberFields.Membership: membership = value.Length == 0 ? null : value; break;
                case MemberFields.MembershipExpiresAt: expires = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                case MemberFields.ReferenceRevenue: revenue = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                case MemberFields.Birthday: birthday = value.Length == 0 ? null : value; break;
                case MemberFields.TierFloor: tierFloor = value.Length == 0 ? null : value; break;
                case MemberFields.TierFloorUntil: tierFloorUntil = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture); break;
                default:
                    counters ??= new Dictionary<string, long>(state.Counters, StringComparer.Ordinal);
                    counters[name] = long.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                    break;
            }
        }

        if (deletes.Count > 0)
        {
            counters ??= new Dictionary<string, long>(state.Counters, StringComparer.Ordinal);
            foreach (var name in deletes)
            {
                counters.Remove(name);
            }
        }

        return new MemberSnapshot(version, new MemberState
        {
            Balance = state.Balance + balanceDelta,
            LifetimeSpendMinor = spend,
            Tier = tier,
            Purchases = purchases,
            EnrolledAt = state.EnrolledAt,
            Segments = segments,
            Membership = membership,
            MembershipExpiresAt = DateTimeOffset.FromUnixTimeMilliseconds(expires),
            ReferenceRevenueMinor = revenue,
            ReferredBy = state.ReferredBy,
            Birthday = birthday,
            TierFloor = tierFloor,
            TierFloorUntil = tierFloorUntil,
            Counters = counters ?? state.Counters,
        }, sequence, changeId);
    }
}
