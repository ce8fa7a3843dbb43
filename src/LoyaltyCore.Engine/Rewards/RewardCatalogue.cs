using LoyaltyCore.Engine.Scoring;

namespace LoyaltyCore.Engine.Rewards;

/// <summary>Why a member cannot claim a reward now; the first reason found, in this order.</summary>
public enum RewardBlock
{
    None,

    /// <summary>Outside the reward's window.</summary>
    Window,

    /// <summary>The member's tier is not one the reward allows.</summary>
    Tier,

    /// <summary>The member holds none of the segments the reward allows.</summary>
    Segment,

    /// <summary>The member has claimed it as often as the per-member limit allows.</summary>
    Limit,

    /// <summary>The member's available points are below its cost.</summary>
    Points,
}

/// <summary>How the nudge is chosen among the rewards a member is allowed but cannot afford yet.</summary>
public enum NudgeChoice
{
    /// <summary>The reward needing the fewest points more (the earlier listed on a tie).</summary>
    Closest,

    /// <summary>The first listed: the catalogue's order is the marketing priority.</summary>
    First,

    /// <summary>No nudge.</summary>
    None,
}

/// <param name="MaxPointsNeeded">A reward needing more points than this is never a nudge; null for no limit.</param>
public sealed record NudgePolicy(NudgeChoice Choice, long? MaxPointsNeeded)
{
    public static NudgePolicy Default { get; } = new(NudgeChoice.Closest, null);
}

/// <summary>A reward of the catalogue: bought with points, optionally limited in stock, time, audience and per member.</summary>
/// <param name="Stock">Units for all members together; null for unlimited.</param>
/// <param name="Start">First instant it can be claimed; null for always.</param>
/// <param name="End">First instant it can no longer be claimed; null for never.</param>
/// <param name="Tiers">Tier ids allowed; empty for all.</param>
/// <param name="Segments">Segments allowed (any one of them); empty for all.</param>
/// <param name="PerMemberLimit">Claims per member over the program's life; null for unlimited.</param>
public sealed record Reward(
    string Id,
    string Name,
    long Cost,
    long? Stock,
    DateTimeOffset? Start,
    DateTimeOffset? End,
    IReadOnlySet<string> Tiers,
    IReadOnlySet<string> Segments,
    long? PerMemberLimit)
{
    /// <summary>The shared budget its stock is drawn from (the campaign budgets' mechanism, in units).</summary>
    public string StockId { get; } = StockPrefix + Id;

    /// <summary>The member's counter of claims of this reward.</summary>
    public string ClaimsKey { get; } = ClaimsPrefix + Id;

    public const string StockPrefix = "reward:";
    public const string ClaimsPrefix = "k.rw:";

    /// <summary>Whether the member may claim it at <paramref name="at"/>, stock aside (shared, so the hot state's).</summary>
    /// <param name="tier">The tier the member holds at that time.</param>
    public RewardBlock Check(MemberState member, string tier, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(member);
        if ((Start is { } start && at < start) || (End is { } end && at >= end))
        {
            return RewardBlock.Window;
        }

        if (Tiers.Count > 0 && !Tiers.Contains(tier))
        {
            return RewardBlock.Tier;
        }

        if (Segments.Count > 0 && !member.Segments.Any(Segments.Contains))
        {
            return RewardBlock.Segment;
        }

        if (PerMemberLimit is { } limit && member.Counter(ClaimsKey) >= limit)
        {
            return RewardBlock.Limit;
        }

        return member.AvailablePoints < Cost ? RewardBlock.Points : RewardBlock.None;
    }
}

/// <summary>The program's rewards, in document order, and how the nudge is chosen among them.</summary>
public sealed class RewardCatalogue
{
    private readonly Dictionary<string, Reward> _byId;

    public RewardCatalogue(IReadOnlyList<Reward> rewards, NudgePolicy nudge)
    {
        ArgumentNullException.ThrowIfNull(rewards);
        Rewards = rewards;
        Nudge = nudge;
        _byId = rewards.ToDictionary(r => r.Id, StringComparer.Ordinal);
    }

    public static RewardCatalogue Empty { get; } = new([], NudgePolicy.Default);

    public IReadOnlyList<Reward> Rewards { get; }

    public NudgePolicy Nudge { get; }

    public Reward? Find(string id) => _byId.GetValueOrDefault(id);

    /// <summary>
    /// The reward to nudge the member towards: one they are allowed to claim now but cannot afford with their
    /// available points, chosen as <see cref="Nudge"/> says, with the points they still need; null when there is none.
    /// </summary>
    public (Reward Reward, long PointsNeeded)? NudgeFor(MemberState member, string tier, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(member);
        if (Nudge.Choice == NudgeChoice.None)
        {
            return null;
        }

        (Reward Reward, long PointsNeeded)? best = null;
        foreach (var reward in Rewards)
        {
            if (reward.Check(member, tier, at) != RewardBlock.Points)
            {
                continue;
            }

            var needed = reward.Cost - member.AvailablePoints;
            if (Nudge.MaxPointsNeeded is { } max && needed > max)
            {
                continue;
            }

            if (Nudge.Choice == NudgeChoice.First)
            {
                return (reward, needed);
            }

            if (best is null || needed < best.Value.PointsNeeded)
            {
                best = (reward, needed);
            }
        }

        return best;
    }
}
