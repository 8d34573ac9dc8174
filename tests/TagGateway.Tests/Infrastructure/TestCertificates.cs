using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using TagGateway.Forwarding;

namespace TagGateway.Tests.Infrastructure;

/// <summary>
/// Certificates made in the test process for loopback TLS upstreams: one certificate authority the gateway is told
/// to trust (<see cref="Trust"/>, through <see cref="UpstreamTrust.CustomRoots"/>, never by skipping validation),
/// server certificates it issued, and one from an authority nobody trusts.
/// </summary>
internal static class TestCertificates
{
    /// <summary>
    /// The host name TLS upstreams are connected to: it resolves to loopback everywhere. The TLS name is the Host the
    /// gateway sends when it sends one (TagGateway mode: <see cref="TagGatewayName"/>), else this.
    /// </summary>
    public const string UpstreamHost = "localhost";

    /// <summary>The Host (and TLS name) of TagGateway mode for the tests' first tag, G-TEST1234.</summary>
    public const string TagGatewayName = "g-test1234.fps.goog";

    private static readonly Lazy<X509Certificate2> Authority = new(() => CreateAuthority("CN=TagGateway test authority"));
    private static readonly Lazy<X509Certificate2> OtherAuthority = new(() => CreateAuthority("CN=Nobody trusts this authority"));
    private static readonly Lazy<X509Certificate2> UpstreamCertificate = new(() => Issue(Authority.Value, TagGatewayName, UpstreamHost));
    private static readonly Lazy<X509Certificate2> OtherHostCertificate = new(() => Issue(Authority.Value, "other.test"));
    private static readonly Lazy<X509Certificate2> UntrustedCertificate = new(() => Issue(OtherAuthority.Value, TagGatewayName, UpstreamHost));

    /// <summary>The gateway's trust for these tests: the test authority only (the system's roots are not consulted).</summary>
    public static UpstreamTrust Trust => UpstreamTrust.CustomRoots([X509CertificateLoader.LoadCertificate(Authority.Value.RawData)]);

    /// <summary>Issued by the trusted authority for <see cref="TagGatewayName"/>, <see cref="UpstreamHost"/> and 127.0.0.1.</summary>
    public static X509Certificate2 Upstream => UpstreamCertificate.Value;

    /// <summary>Issued by the trusted authority, but for another host name.</summary>
    public static X509Certificate2 OtherHost => OtherHostCertificate.Value;

    /// <summary>For the right host names, issued by an authority the gateway does not trust.</summary>
    public static X509Certificate2 Untrusted => UntrustedCertificate.Value;

    private static X509Certificate2 CreateAuthority(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
    }

    private static X509Certificate2 Issue(X509Certificate2 authority, params string[] dnsNames)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={dnsNames[0]}", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        foreach (var name in dnsNames)
        {
            names.AddDnsName(name);
        }

        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        var now = DateTimeOffset.UtcNow;
        var serial = RandomNumberGenerator.GetBytes(12);
        using var issued = request.Create(authority, now.AddHours(-1), now.AddDays(7), serial);
        using var withKey = issued.CopyWithPrivateKey(key);
        // Through PKCS#12 so the key is usable by every TLS server on every platform.
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), password: null);
    }
}
