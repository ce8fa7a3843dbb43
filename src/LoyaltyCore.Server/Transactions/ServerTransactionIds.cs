namespace LoyaltyCore.Server.Transactions;

/// <summary>
/// The transaction ids the server gives the transactions it starts itself: a prefix and what makes the transaction
/// unique (the referred member, the year). Clients may not use them.
/// </summary>
internal static class ServerTransactionIds
{
    /// <summary>A referrer's reward: followed by the referred member's id (one reward per referred member).</summary>
    public const string Referral = "referral:";

    /// <summary>The enrolment bonus: followed by the member's id.</summary>
    public const string Enrolled = "enrolled:";

    /// <summary>The birthday reward: followed by the year.</summary>
    public const string Birthday = "birthday:";

    /// <summary>The release of a hold past its expiry: followed by the hold's id.</summary>
    public const string HoldExpired = "hold-expired:";

    /// <summary>The expiry run of a day: followed by the day (yyyy-MM-dd); one per member and day.</summary>
    public const string Expiry = "expiry:";

    /// <summary>A partner's conversion: followed by the partner's tag and its conversion id.</summary>
    public const string Conversion = "partner-cv:";

    /// <summary>A partner's direct award: followed by the partner's tag and its award id.</summary>
    public const string PartnerAward = "partner-aw:";

    public static readonly string[] Prefixes = [Referral, Enrolled, Birthday, HoldExpired, Expiry, Conversion, PartnerAward];
}
