namespace LoyaltyCore.Server.Transactions;

/// <summary>
/// A partner's account in the ledger: the points it funded, as rows of <c>campaign_draws</c> under
/// <c>funded/PARTNER</c> written with the member's ledger row they balance (the member's balance gains what the account
/// owes; points credited back are negative rows). Never a budget: no transaction draws from it in Redis.
/// </summary>
internal static class PartnerAccounts
{
    public static string Funded(string partnerId) => "funded/" + partnerId;
}
