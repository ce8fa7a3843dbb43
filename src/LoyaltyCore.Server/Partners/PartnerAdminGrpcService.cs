using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.Server.Api;
using LoyaltyCore.Server.Ledger;
using LoyaltyCore.Server.Scoring;
using LoyaltyCore.Server.Security;
using LoyaltyCore.Server.Transactions;
using LoyaltyCore.Server.Transactions.Intents;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using Status = Grpc.Core.Status;

namespace LoyaltyCore.Server.Partners;

/// <summary>Partners and their keys, managed by the program's administrators.</summary>
[Authorize(Roles = ClientRoles.Admin)]
internal sealed class PartnerAdminGrpcService(PartnerStore store, PartnerKeys keys, CampaignBudgets budgets, TimeProvider time, IOptions<PartnerOptions> options)
    : PartnerAdminService.PartnerAdminServiceBase
{
    private const int MaxNameLength = 200;
    private const long MaxOverlapSeconds = 30 * 24 * 3600;

    // Budgets are kept in Redis, whose scripts count in doubles: well inside 2^53.
    private const long MaxAmount = 1_000_000_000_000;

    public override async Task<Partner> CreatePartner(CreatePartnerRequest request, ServerCallContext context)
    {
        ValidateTerms(request.PartnerId, request.Name, request.PricePerThousandPointsMinor, request.CreditLimitPoints);

        var partner = new StoredPartner
        {
            PartnerId = request.PartnerId,
            Name = request.Name,
            PricePerThousandPointsMinor = request.PricePerThousandPointsMinor,
            CreditLimitPoints = request.CreditLimitPoints,
            CreatedAtMs = time.GetUtcNow().ToUnixTimeMilliseconds(),
        };
        if (!await store.CreateAsync(partner, context.CancellationToken))
        {
            throw new RpcException(new Status(StatusCode.AlreadyExists, $"Partner '{request.PartnerId}' already exists."));
        }

        return PartnerMessages.ToMessage(partner);
    }

    public override async Task<Partner> UpdatePartner(UpdatePartnerRequest request, ServerCallContext context)
    {
        ValidateTerms(request.PartnerId, request.Name, request.PricePerThousandPointsMinor, request.CreditLimitPoints);
        if (!await store.UpdateAsync(request.PartnerId, request.Name, request.PricePerThousandPointsMinor, request.CreditLimitPoints, context.CancellationToken))
        {
            throw PartnerMessages.PartnerNotFound(request.PartnerId);
        }

        // The credit left moves by the difference: points already awarded stay awarded.
        await budgets.ResizeAsync(OfferTerms.CreditBudgetId(request.PartnerId), request.CreditLimitPoints, context.CancellationToken);
        return PartnerMessages.ToMessage((await store.GetAsync(request.PartnerId, context.CancellationToken))!);
    }

    public override async Task<Partner> GetPartner(GetPartnerRequest request, ServerCallContext context) =>
        PartnerMessages.ToMessage(await FindAsync(request.PartnerId, context.CancellationToken));

    public override async Task<ListPartnersResponse> ListPartners(ListPartnersRequest request, ServerCallContext context)
    {
        var response = new ListPartnersResponse();
        response.Partners.AddRange((await store.ListAsync(context.CancellationToken)).Select(PartnerMessages.ToMessage));
        return response;
    }

    public override Task<Partner> SuspendPartner(SuspendPartnerRequest request, ServerCallContext context) =>
        SetSuspendedAsync(request.PartnerId, suspended: true, context.CancellationToken);

    public override Task<Partner> ReactivatePartner(ReactivatePartnerRequest request, ServerCallContext context) =>
        SetSuspendedAsync(request.PartnerId, suspended: false, context.CancellationToken);

    public override async Task<IssuedPartnerKey> IssuePartnerKey(IssuePartnerKeyRequest request, ServerCallContext context)
    {
        var partner = await FindAsync(request.PartnerId, context.CancellationToken);
        return await IssueAsync(partner.PartnerId, context.CancellationToken);
    }

    public override async Task<IssuedPartnerKey> RotatePartnerKey(RotatePartnerKeyRequest request, ServerCallContext context)
    {
        if (request.OverlapSeconds is < 0 or > MaxOverlapSeconds)
        {
            throw RpcErrors.InvalidArgument("overlap_seconds", $"must be between 0 (Partners:DefaultRotationOverlap) and {MaxOverlapSeconds}");
        }

        var old = await FindKeyAsync(request.PartnerId, request.KeyId, context.CancellationToken);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (old.RevokedAtMs is not null || old.ExpiresAtMs <= now)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"Key '{request.KeyId}' is revoked or expired; issue a new key instead."));
        }

        var issued = await IssueAsync(old.PartnerId, context.CancellationToken);
        var overlap = request.OverlapSeconds == 0 ? options.Value.DefaultRotationOverlap : TimeSpan.FromSeconds(request.OverlapSeconds);
        await store.ExpireKeyAsync(old.KeyId, now + (long)overlap.TotalMilliseconds, context.CancellationToken);
        keys.Forget(old.KeyId);
        return issued;
    }

    public override async Task<PartnerKey> RevokePartnerKey(RevokePartnerKeyRequest request, ServerCallContext context)
    {
        var key = await FindKeyAsync(request.PartnerId, request.KeyId, context.CancellationToken);
        await store.RevokeKeyAsync(key.KeyId, time.GetUtcNow().ToUnixTimeMilliseconds(), context.CancellationToken);
        keys.Forget(key.KeyId);
        return PartnerMessages.ToMessage((await store.KeyAsync(key.KeyId, context.CancellationToken))!);
    }

    public override async Task<ListPartnerKeysResponse> ListPartnerKeys(ListPartnerKeysRequest request, ServerCallContext context)
    {
        var partner = await FindAsync(request.PartnerId, context.CancellationToken);
        var response = new ListPartnerKeysResponse();
        response.Keys.AddRange((await store.KeysAsync(partner.PartnerId, context.CancellationToken)).Select(PartnerMessages.ToMessage));
        return response;
    }

    /// <summary>Every problem of a partner's terms at once, as field violations.</summary>
    private static void ValidateTerms(string partnerId, string name, long price, long creditLimit)
    {
        List<BadRequest.Types.FieldViolation> violations = [];
        if (!RequestValidation.IsValidId(partnerId))
        {
            violations.Add(new() { Field = "partner_id", Description = RequestValidation.IdRequirement });
        }

        if (name.Length is 0 or > MaxNameLength || name.Any(char.IsControl))
        {
            violations.Add(new() { Field = "name", Description = $"required, 1-{MaxNameLength} characters with no control characters" });
        }

        if (price is < 0 or > MaxAmount)
        {
            violations.Add(new() { Field = "price_per_thousand_points_minor", Description = $"between 0 and {MaxAmount}" });
        }

        if (creditLimit is < 0 or > MaxAmount)
        {
            violations.Add(new() { Field = "credit_limit_points", Description = $"between 0 and {MaxAmount}" });
        }

        if (violations.Count > 0)
        {
            throw RpcErrors.InvalidArgument(violations);
        }
    }

    private async Task<Partner> SetSuspendedAsync(string partnerId, bool suspended, CancellationToken cancellationToken)
    {
        var partner = await FindAsync(partnerId, cancellationToken);
        await store.SetSuspendedAsync(partner.PartnerId, suspended, cancellationToken);
        keys.ForgetPartner(partner.PartnerId);
        partner.Suspended = suspended;
        return PartnerMessages.ToMessage(partner);
    }

    private async Task<IssuedPartnerKey> IssueAsync(string partnerId, CancellationToken cancellationToken)
    {
        var created = PartnerKeys.Create();
        var key = new StoredPartnerKey
        {
            KeyId = created.KeyId,
            PartnerId = partnerId,
            SecretSha256 = created.SecretSha256,
            CreatedAtMs = time.GetUtcNow().ToUnixTimeMilliseconds(),
        };
        await store.InsertKeyAsync(key, cancellationToken);
        return new IssuedPartnerKey { Key = PartnerMessages.ToMessage(key), ApiKey = created.ApiKey };
    }

    private async Task<StoredPartner> FindAsync(string partnerId, CancellationToken cancellationToken)
    {
        RequestValidation.ValidateMemberId(partnerId, "partner_id");
        return await store.GetAsync(partnerId, cancellationToken) ?? throw PartnerMessages.PartnerNotFound(partnerId);
    }

    private async Task<StoredPartnerKey> FindKeyAsync(string partnerId, string keyId, CancellationToken cancellationToken)
    {
        RequestValidation.ValidateMemberId(partnerId, "partner_id");
        RequestValidation.ValidateMemberId(keyId, "key_id");
        var key = await store.KeyAsync(keyId, cancellationToken);
        return key is not null && key.PartnerId == partnerId
            ? key
            : throw new RpcException(new Status(StatusCode.NotFound, $"Partner '{partnerId}' has no key '{keyId}'."));
    }
}

/// <summary>Partners and keys as the protos carry them.</summary>
internal static class PartnerMessages
{
    public static RpcException PartnerNotFound(string partnerId) => new(new Status(StatusCode.NotFound, $"There is no partner '{partnerId}'."));

    public static Partner ToMessage(StoredPartner partner) => new()
    {
        PartnerId = partner.PartnerId,
        Name = partner.Name,
        Status = partner.Suspended ? PartnerStatus.Suspended : PartnerStatus.Active,
        PricePerThousandPointsMinor = partner.PricePerThousandPointsMinor,
        CreditLimitPoints = partner.CreditLimitPoints,
        CreatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(partner.CreatedAtMs)),
    };

    public static PartnerKey ToMessage(StoredPartnerKey key)
    {
        var message = new PartnerKey
        {
            KeyId = key.KeyId,
            PartnerId = key.PartnerId,
            CreatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(key.CreatedAtMs)),
        };
        if (key.ExpiresAtMs is { } expires)
        {
            message.ExpiresAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(expires));
        }

        if (key.RevokedAtMs is { } revoked)
        {
            message.RevokedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(revoked));
        }

        return message;
    }
}
