using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Grpc.Core;
using Grpc.Net.Client;
using LoyaltyCore.Contracts.V1;
using LoyaltyCore.IntegrationTests.Infrastructure;

namespace LoyaltyCore.IntegrationTests;

/// <summary>TLS and mutual TLS on the gRPC listener, with a certificate authority made by the test.</summary>
public sealed class TlsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("loyalty-tls-").FullName;
    private readonly X509Certificate2 _authority = CreateAuthority("LoyaltyCore test CA");

    public void Dispose()
    {
        _authority.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task Over_tls_a_till_that_trusts_the_authority_scores_and_a_cleartext_client_is_refused()
    {
        WriteServerCertificate("server");
        await using var server = await StartAsync();
        using var tls = Channel(server, clientCertificate: null, out _);

        var response = await new ScoringService.ScoringServiceClient(tls).ScoreAsync(Requests.Score(await EnrolledAsync(tls)));

        Assert.Equal(45, response.PointsEarned);
        using var cleartext = server.CreateChannel(ServerInstance.PosKey);
        await Assert.ThrowsAsync<RpcException>(() => new ScoringService.ScoringServiceClient(cleartext).ScoreAsync(Requests.Score(Ids.Member())).ResponseAsync);
    }

    [Fact]
    public async Task A_renewed_certificate_is_served_to_the_next_connection_without_a_restart()
    {
        var first = WriteServerCertificate("first");
        await using var server = await StartAsync();
        using (var before = Channel(server, clientCertificate: null, out var seenBefore))
        {
            await EnrolledAsync(before);
            Assert.Equal(first, seenBefore());
        }

        var renewed = WriteServerCertificate("renewed");
        // Files are looked at no more than every 2 s; a new connection after that sees the renewal.
        string? seen = null;
        for (var attempt = 0; attempt < 50 && seen != renewed; attempt++)
        {
            using var after = Channel(server, clientCertificate: null, out var seenAfter);
            await EnrolledAsync(after);
            seen = seenAfter();
            if (seen != renewed)
            {
                await Task.Delay(200);
            }
        }

        Assert.Equal(renewed, seen);
    }

    [Fact]
    public async Task With_mutual_tls_only_a_client_certificate_from_the_configured_authority_gets_in()
    {
        WriteServerCertificate("server");
        var clientCa = Path.Combine(_directory, "clients-ca.pem");
        File.WriteAllText(clientCa, _authority.ExportCertificatePem());
        await using var server = await StartAsync(settings =>
        {
            settings["Server:Tls:ClientCertificates"] = "Require";
            settings["Server:Tls:ClientCaPath"] = clientCa;
        });
        using var partner = IssueClientCertificate(_authority, "store-042");
        using var stranger = IssueClientCertificate(CreateAuthority("Someone else"), "store-666");

        using (var trusted = Channel(server, partner, out _))
        {
            Assert.Equal(45, (await new ScoringService.ScoringServiceClient(trusted).ScoreAsync(Requests.Score(await EnrolledAsync(trusted)))).PointsEarned);
        }

        using (var untrusted = Channel(server, stranger, out _))
        {
            await Assert.ThrowsAsync<RpcException>(() => EnrolledAsync(untrusted));
        }

        using var anonymous = Channel(server, clientCertificate: null, out _);
        await Assert.ThrowsAsync<RpcException>(() => EnrolledAsync(anonymous));
    }

    private Task<ServerInstance> StartAsync(Action<Dictionary<string, string?>>? configure = null) =>
        ServerInstance.StartAsync(settings =>
        {
            settings["Server:Tls:CertificatePath"] = Path.Combine(_directory, "server.pem");
            settings["Server:Tls:KeyPath"] = Path.Combine(_directory, "server.key");
            configure?.Invoke(settings);
        });

    /// <returns>The certificate's thumbprint.</returns>
    private string WriteServerCertificate(string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN=loyaltycore {name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.Create(_authority, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(16));
        // Key first, certificate last: a reload sees both files new.
        File.WriteAllText(Path.Combine(_directory, "server.key"), key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(Path.Combine(_directory, "server.pem"), certificate.ExportCertificatePem());
        return certificate.Thumbprint;
    }

    /// <summary>A channel that trusts only the test authority, and reports the certificate the server presented.</summary>
    private GrpcChannel Channel(ServerInstance server, X509Certificate2? clientCertificate, out Func<string?> presented)
    {
        string? seen = null;
        presented = () => seen;
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                {
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(_authority);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    var presentedCertificate = (X509Certificate2)certificate!;
                    seen = presentedCertificate.Thumbprint;
                    return chain.Build(presentedCertificate);
                },
                ClientCertificates = clientCertificate is null ? null : [clientCertificate],
            },
        };
        return GrpcChannel.ForAddress($"https://127.0.0.1:{server.GrpcPort}", new GrpcChannelOptions
        {
            HttpHandler = handler,
            Credentials = ChannelCredentials.Create(ChannelCredentials.SecureSsl, CallCredentials.FromInterceptor((_, metadata) =>
            {
                metadata.Add("authorization", "Bearer " + ServerInstance.PosKey);
                return Task.CompletedTask;
            })),
        });
    }

    private static async Task<string> EnrolledAsync(GrpcChannel channel)
    {
        var memberId = Ids.Member();
        await new MemberService.MemberServiceClient(channel).EnrollAsync(new EnrollRequest { MemberId = memberId });
        return memberId;
    }

    private static X509Certificate2 CreateAuthority(string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    private static X509Certificate2 IssueClientCertificate(X509Certificate2 authority, string name)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var issued = request.Create(authority, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), RandomNumberGenerator.GetBytes(16));
        using var withKey = issued.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }
}
