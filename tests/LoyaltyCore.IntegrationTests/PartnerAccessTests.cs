using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Grpc.Core;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

/// <summary>Partners, their keys and what a partner key may do, over gRPC and over HTTP/JSON as a partner's backend calls it.</summary>
public sealed class PartnerAccessTests : IAsyncLifetime
{
    private readonly ShiftableClock _clock = new();
    private ServerInstance _server = null!;
    private PartnerAdminService.PartnerAdminServiceClient _admin = null!;

    public async Task InitializeAsync()
    {
        _server = await ServerInstance.StartAsync(s =>
        {
            s["Partners:KeyCacheTtl"] = "00:00:00";
            s["Partners:RequestsPerSecond"] = "1";
            s["Partners:Burst"] = "20";
        }, ownLedger: true, clock: _clock);
        _admin = new PartnerAdminService.PartnerAdminServiceClient(_server.CreateChannel(ServerInstance.AdminKey));
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task<(string PartnerId, IssuedPartnerKey Key)> PartnerAsync(string name = "Acme Travel")
    {
        var partnerId = "p-" + Guid.NewGuid().ToString("N")[..10];
        await _admin.CreatePartnerAsync(new CreatePartnerRequest { PartnerId = partnerId, Name = name, PricePerThousandPointsMinor = 850, CreditLimitPoints = 100_000 });
        return (partnerId, await _admin.IssuePartnerKeyAsync(new IssuePartnerKeyRequest { PartnerId = partnerId }));
    }

    private PartnerService.PartnerServiceClient As(string apiKey) => new(_server.CreateChannel(apiKey));

    private HttpClient Http(string? apiKey)
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{_server.HttpPort}") };
        if (apiKey is not null)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiKey);
        }

        return http;
    }

    [Fact]
    public async Task An_admin_creates_a_partner_and_the_partner_key_authenticates_as_that_partner_over_grpc_and_http()
    {
        var (partnerId, key) = await PartnerAsync();

        var profile = await As(key.ApiKey).GetPartnerProfileAsync(new GetPartnerProfileRequest());
        using var http = Http(key.ApiKey);
        using var response = await http.GetAsync(new Uri($"/v1/partners/{partnerId}/profile", UriKind.Relative));
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal((partnerId, "Acme Travel", PartnerStatus.Active, 850L, 100_000L), (profile.PartnerId, profile.Name, profile.Status, profile.PricePerThousandPointsMinor, profile.CreditLimitPoints));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(partnerId, json.GetProperty("partnerId").GetString());
        Assert.Equal("PARTNER_STATUS_ACTIVE", json.GetProperty("status").GetString());
        Assert.StartsWith("lcp_" + key.Key.KeyId + "_", key.ApiKey, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_is_stored_as_the_hash_of_its_secret_and_never_shown_again()
    {
        var (partnerId, key) = await PartnerAsync();

        var listed = await _admin.ListPartnerKeysAsync(new ListPartnerKeysRequest { PartnerId = partnerId });
        await using var connection = new Npgsql.NpgsqlConnection(_server.LedgerConnectionString);
        var stored = await connection.QuerySingleAsync<(string KeyId, byte[] Hash)>(
            "SELECT key_id, secret_sha256 FROM partner_keys WHERE partner_id = @partnerId", new { partnerId });
        var rows = string.Join('|', await connection.QueryAsync<string>("SELECT row_to_json(k)::text FROM partner_keys k"));

        // lcp_<key id>_<secret>: the secret (base64url, '_' included) is everything after the key id.
        var secret = key.ApiKey[("lcp_" + key.Key.KeyId + "_").Length..];
        Assert.Equal(key.Key.KeyId, Assert.Single(listed.Keys).KeyId);
        Assert.DoesNotContain(secret, listed.ToString(), StringComparison.Ordinal);
        Assert.Equal(SHA256.HashData(Encoding.UTF8.GetBytes(secret)), stored.Hash);
        Assert.DoesNotContain(secret, rows, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_partner_naming_another_partner_gets_not_found_as_for_one_that_does_not_exist()
    {
        var (_, mine) = await PartnerAsync();
        var (theirs, _) = await PartnerAsync("Other");

        var other = await RpcAssert.FailsWith(StatusCode.NotFound, () => As(mine.ApiKey).GetPartnerProfileAsync(new GetPartnerProfileRequest { PartnerId = theirs }).ResponseAsync);
        var nobody = await RpcAssert.FailsWith(StatusCode.NotFound, () => As(mine.ApiKey).GetPartnerProfileAsync(new GetPartnerProfileRequest { PartnerId = "p-nobody" }).ResponseAsync);
        using var http = Http(mine.ApiKey);
        using var overHttp = await http.GetAsync(new Uri($"/v1/partners/{theirs}/profile", UriKind.Relative));
        var status = await overHttp.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal($"There is no partner '{theirs}'.", other.Status.Detail);
        Assert.Equal("There is no partner 'p-nobody'.", nobody.Status.Detail);
        Assert.Equal(HttpStatusCode.NotFound, overHttp.StatusCode);
        Assert.Equal((int)StatusCode.NotFound, status.GetProperty("code").GetInt32());
        Assert.Equal($"There is no partner '{theirs}'.", status.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_rotated_key_works_through_its_overlap_and_not_after_and_the_new_one_works_at_once()
    {
        var (partnerId, old) = await PartnerAsync();

        var rotated = await _admin.RotatePartnerKeyAsync(new RotatePartnerKeyRequest { PartnerId = partnerId, KeyId = old.Key.KeyId, OverlapSeconds = 3600 });
        var oldDuringOverlap = await As(old.ApiKey).GetPartnerProfileAsync(new GetPartnerProfileRequest());
        var newAtOnce = await As(rotated.ApiKey).GetPartnerProfileAsync(new GetPartnerProfileRequest());
        _clock.Advance(TimeSpan.FromMinutes(61));

        await RpcAssert.FailsWith(StatusCode.Unauthenticated, () => As(old.ApiKey).GetPartnerProfileAsync(new GetPartnerProfileRequest()).ResponseAsync);
        Assert.Equal(partnerId, (await As(rotated.ApiKey).GetPartnerProfileAsync(new GetPartnerProfileRequest())).PartnerId);
        Assert.Equal((partnerId, partnerId), (oldDuringOverlap.PartnerId, newAtOnce.PartnerId));
        var keys = (await _admin.ListPartnerKeysAsync(new ListPartnerKeysRequest { PartnerId = partnerId })).Keys;
        Assert.Equal(2, keys.Count);
        Assert.NotNull(keys.Single(k => k.KeyId == old.Key.KeyId).ExpiresAt);
        await RpcAssert.FailsWith(StatusCode.FailedPrecondition, () => _admin.RotatePartnerKeyAsync(new RotatePartnerKeyRequest { PartnerId = partnerId, KeyId = old.Key.KeyId }).ResponseAsync);
    }

    [Fact]
    public async Task A_revoked_key_is_refused_at_once_and_a_suspended_partner_is_denied_until_reactivated()
    {
        var (partnerId, key) = await PartnerAsync();
        var spare = await _admin.IssuePartnerKeyAsync(new IssuePartnerKeyRequest { PartnerId = partnerId });

        var revoked = await _admin.RevokePartnerKeyAsync(new RevokePartnerKeyRequest { PartnerId = partnerId, KeyId = key.Key.KeyId });
        var afterRevoke = await RpcAssert.FailsWith(StatusCode.Unauthenticated, () => As(key.ApiKey).GetPartnerProfileAsync(new GetPartnerProfileRequest()).ResponseAsync);
        await _admin.SuspendPartnerAsync(new SuspendPartnerRequest { PartnerId = partnerId });
        await RpcAssert.FailsWith(StatusCode.PermissionDenied, () => As(spare.ApiKey).GetPartnerProfileAsync(new GetPartnerProfileRequest()).ResponseAsync);
        var suspended = await _admin.GetPartnerAsync(new GetPartnerRequest { PartnerId = partnerId });
        await _admin.ReactivatePartnerAsync(new ReactivatePartnerRequest { PartnerId = partnerId });

        Assert.NotNull(revoked.RevokedAt);
        Assert.Contains("Missing or unknown API key", afterRevoke.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(PartnerStatus.Suspended, suspended.Status);
        Assert.Equal(partnerId, (await As(spare.ApiKey).GetPartnerProfileAsync(new GetPartnerProfileRequest())).PartnerId);
    }

    [Fact]
    public async Task Each_client_reaches_only_its_own_services()
    {
        var (partnerId, key) = await PartnerAsync();

        // A partner key is not a till's, an admin's or support's; a till's key is not an admin's or a partner's.
        await RpcAssert.FailsWith(StatusCode.PermissionDenied, () => new ScoringService.ScoringServiceClient(_server.CreateChannel(key.ApiKey)).ScoreAsync(Requests.Score(Ids.Member())).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.PermissionDenied, () => new PartnerAdminService.PartnerAdminServiceClient(_server.CreateChannel(key.ApiKey)).ListPartnersAsync(new ListPartnersRequest()).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.PermissionDenied, () => new PartnerAdminService.PartnerAdminServiceClient(_server.CreateChannel(ServerInstance.PosKey)).ListPartnersAsync(new ListPartnersRequest()).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.PermissionDenied, () => As(ServerInstance.PosKey).GetPartnerProfileAsync(new GetPartnerProfileRequest()).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.Unauthenticated, () => As("lcp_000000000000_not-a-secret").GetPartnerProfileAsync(new GetPartnerProfileRequest()).ResponseAsync);
        await RpcAssert.FailsWith(StatusCode.Unauthenticated, () => As(key.ApiKey[..^2] + "xx").GetPartnerProfileAsync(new GetPartnerProfileRequest()).ResponseAsync);
        using var anonymous = Http(null);
        using var refused = await anonymous.GetAsync(new Uri($"/v1/partners/{partnerId}/profile", UriKind.Relative));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal((int)StatusCode.Unauthenticated, (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetInt32());
        // The HTTP/JSON listener serves no metrics, and the metrics listener no API.
        using var noMetrics = await anonymous.GetAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(HttpStatusCode.NotFound, noMetrics.StatusCode);
        using var metricsListener = new HttpClient();
        using var noApi = await metricsListener.GetAsync(new Uri($"http://127.0.0.1:{_server.MetricsPort}/v1/partners/{partnerId}/profile"));
        Assert.Equal(HttpStatusCode.NotFound, noApi.StatusCode);
    }

    [Fact]
    public async Task An_admin_manages_partners_over_http_json_with_errors_as_google_rpc_status()
    {
        using var http = Http(ServerInstance.AdminKey);
        var partnerId = "p-" + Guid.NewGuid().ToString("N")[..10];

        using var created = await http.PostAsJsonAsync(new Uri("/v1/partners", UriKind.Relative), new { partnerId, name = "Hotel Chain", pricePerThousandPointsMinor = 700, creditLimitPoints = 5000 });
        using var again = await http.PostAsJsonAsync(new Uri("/v1/partners", UriKind.Relative), new { partnerId, name = "Hotel Chain" });
        using var bad = await http.PostAsJsonAsync(new Uri("/v1/partners", UriKind.Relative), new { partnerId = "bad id", name = "", creditLimitPoints = -1 });
        using var issued = await http.PostAsJsonAsync(new Uri($"/v1/partners/{partnerId}/keys", UriKind.Relative), new { });
        Assert.True(issued.IsSuccessStatusCode, $"{issued.StatusCode}: {await issued.Content.ReadAsStringAsync()}");
        Assert.True(bad.StatusCode == HttpStatusCode.BadRequest, $"{bad.StatusCode}: {await bad.Content.ReadAsStringAsync()}");
        var key = await issued.Content.ReadFromJsonAsync<JsonElement>();
        var badStatus = await bad.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal((int)StatusCode.InvalidArgument, badStatus.GetProperty("code").GetInt32());
        var violations = badStatus.GetProperty("details")[0].GetProperty("fieldViolations").EnumerateArray().Select(v => v.GetProperty("field").GetString()).ToList();
        Assert.Equal(["partner_id", "name", "credit_limit_points"], violations);
        Assert.Equal(partnerId, (await As(key.GetProperty("apiKey").GetString()!).GetPartnerProfileAsync(new GetPartnerProfileRequest())).PartnerId);
    }

    [Fact]
    public async Task The_http_json_api_publishes_its_openapi_document()
    {
        using var http = Http(null);

        using var response = await http.GetAsync(new Uri("/swagger/v1/swagger.json", UriKind.Relative));
        var document = await response.Content.ReadFromJsonAsync<JsonElement>();
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("3.", document.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        Assert.Contains("/v1/partners", paths);
        Assert.Contains("/v1/partners/{partnerId}/keys", paths);
        Assert.Contains("/v1/partners/{partnerId}/offers", paths);
        Assert.Contains("/v1/partners/{partnerId}/conversions", paths);
        Assert.Contains("/v1/partners/{partnerId}/awards", paths);
    }

    [Fact]
    public async Task One_partner_over_its_rate_is_refused_alone_and_the_tills_are_not()
    {
        var (_, busy) = await PartnerAsync();
        var (_, quiet) = await PartnerAsync("Quiet");

        // A burst of 20 and one more a second: 40 calls at once cannot all pass.
        var outcomes = await Task.WhenAll(Enumerable.Range(0, 40).Select(async _ =>
        {
            try
            {
                await As(busy.ApiKey).GetPartnerProfileAsync(new GetPartnerProfileRequest());
                return StatusCode.OK;
            }
            catch (RpcException ex)
            {
                return ex.StatusCode;
            }
        }));

        Assert.Contains(StatusCode.ResourceExhausted, outcomes);
        Assert.All(outcomes, o => Assert.True(o is StatusCode.OK or StatusCode.ResourceExhausted, o.ToString()));
        Assert.Equal(quiet.Key.PartnerId, (await As(quiet.ApiKey).GetPartnerProfileAsync(new GetPartnerProfileRequest())).PartnerId);
        var memberId = await IdempotencyTests.EnrolledMemberAsync(_server);
        Assert.Equal(45, (await _server.Scoring.ScoreAsync(Requests.Score(memberId))).PointsEarned);
    }
}
