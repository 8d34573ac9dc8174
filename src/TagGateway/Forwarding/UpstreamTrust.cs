using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace TagGateway.Forwarding;

/// <summary>
/// Which certificate authorities upstream TLS trusts, for both hit clients and the script fetcher: the system's
/// (<see cref="System"/>, the only one production code uses), or, in tests, exactly the roots a test made. Either way
/// the platform validates the chain and the host name and refuses on any error: there is no setting that skips it.
/// </summary>
internal sealed class UpstreamTrust
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1", null);

    private readonly X509ChainPolicy? _policy;

    private UpstreamTrust(X509ChainPolicy? policy) => _policy = policy;

    /// <summary>The system's trusted roots.</summary>
    public static UpstreamTrust System { get; } = new(null);

    /// <summary>Trusts only <paramref name="roots"/> (loopback tests with their own certificate authority).</summary>
    internal static UpstreamTrust CustomRoots(X509Certificate2Collection roots)
    {
        ArgumentNullException.ThrowIfNull(roots);
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        policy.CustomTrustStore.AddRange(roots);
        policy.ApplicationPolicy.Add(ServerAuthentication);
        return new UpstreamTrust(policy);
    }

    /// <summary>Puts the trust on options for one connection (or one handler); no validation callback is ever set.</summary>
    public void Apply(SslClientAuthenticationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (_policy is not null)
        {
            // A copy each time: chain building may touch the policy it is given.
            options.CertificateChainPolicy = _policy.Clone();
        }
    }
}
