using LoyaltyCore.Contracts.V1;

namespace LoyaltyCore.IntegrationTests.Infrastructure;

/// <summary>A partner created through the admin API, with a key of its own and a client that calls as it.</summary>
internal sealed record TestPartner(string PartnerId, string ApiKey, PartnerService.PartnerServiceClient Client)
{
    public static async Task<TestPartner> CreateAsync(ServerInstance server, long creditLimit = 10_000)
    {
        var admin = new PartnerAdminService.PartnerAdminServiceClient(server.CreateChannel(ServerInstance.AdminKey));
        var partnerId = "p-" + Guid.NewGuid().ToString("N")[..10];
        await admin.CreatePartnerAsync(new CreatePartnerRequest { PartnerId = partnerId, Name = partnerId, PricePerThousandPointsMinor = 900, CreditLimitPoints = creditLimit });
        var key = (await admin.IssuePartnerKeyAsync(new IssuePartnerKeyRequest { PartnerId = partnerId })).ApiKey;
        return new TestPartner(partnerId, key, new PartnerService.PartnerServiceClient(server.CreateChannel(key)));
    }
}
