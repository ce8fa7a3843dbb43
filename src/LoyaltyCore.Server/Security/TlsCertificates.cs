using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using LoyaltyCore.Server.Configuration;

namespace LoyaltyCore.Server.Security;

/// <summary>
/// The gRPC listener's certificate, read from PEM files and read again when they change (a renewed certificate is
/// served to the next connection, without a restart), and the check of client certificates against the configured
/// authorities.
/// </summary>
internal sealed partial class TlsCertificates
{
    // A handshake looks at the files' times at most this often: renewals are rare, handshakes are not.
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(2);

    private readonly TlsOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly X509Certificate2Collection _clientAuthorities = [];
    private X509Certificate2 _certificate;
    private (DateTime Certificate, DateTime Key) _loadedFrom;
    private DateTimeOffset _checkedAt;

    public TlsCertificates(TlsOptions options, TimeProvider time, ILogger logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _loadedFrom = FileTimes();
        _certificate = Load();
        _checkedAt = time.GetUtcNow();
        if (!string.IsNullOrWhiteSpace(options.ClientCaPath))
        {
            _clientAuthorities.ImportFromPemFile(options.ClientCaPath);
        }
    }

    /// <summary>Kestrel's certificate selector: the current certificate, reloaded first if its files changed.</summary>
    public X509Certificate2 Current()
    {
        var now = _time.GetUtcNow();
        if (now - _checkedAt < CheckInterval)
        {
            return _certificate;
        }

        lock (_gate)
        {
            _checkedAt = now;
            var times = FileTimes();
            if (times != _loadedFrom)
            {
                try
                {
                    _certificate = Load();
                    _loadedFrom = times;
                    LogReloaded(_logger, _certificate.Subject, _certificate.NotAfter);
                }
                catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or ArgumentException)
                {
                    // Half-written during a renewal: keep serving the previous one and look again at the next check.
                    LogReloadFailed(_logger, ex.Message);
                }
            }

            return _certificate;
        }
    }

    /// <summary>A client certificate is valid when it chains to one of the configured authorities.</summary>
    public bool ValidateClient(X509Certificate2 certificate, SslPolicyErrors errors)
    {
        if (_clientAuthorities.Count == 0 || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_clientAuthorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    private X509Certificate2 Load()
    {
        using var pem = X509Certificate2.CreateFromPemFile(_options.CertificatePath!, _options.KeyPath);
        // A PEM key is ephemeral; SslStream on Linux accepts it as is, but exporting keeps the key with the certificate.
        return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
    }

    private (DateTime, DateTime) FileTimes() =>
        (File.GetLastWriteTimeUtc(_options.CertificatePath!), _options.KeyPath is null ? default : File.GetLastWriteTimeUtc(_options.KeyPath));

    [LoggerMessage(Level = LogLevel.Information, Message = "TLS certificate reloaded: {Subject}, valid until {NotAfter:u}")]
    private static partial void LogReloaded(ILogger logger, string subject, DateTime notAfter);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TLS certificate files changed but could not be read ({Reason}); still serving the previous certificate")]
    private static partial void LogReloadFailed(ILogger logger, string reason);
}
