namespace LoyaltyCore.Engine.Scoring;

/// <summary>The part of a member's hot state that scoring depends on.</summary>
public readonly record struct MemberState(long Balance, long LifetimeSpendMinor, string Tier, long PurchaseCount);
