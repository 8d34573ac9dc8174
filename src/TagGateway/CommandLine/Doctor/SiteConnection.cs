using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace TagGateway.CommandLine.Doctor;

/// <summary>What one request to the site gave: the response (status, headers, body) or why there was none.</summary>
internal sealed record Fetched(int Status, HttpResponseHeaders? Headers, HttpContentHeaders? ContentHeaders, byte[] Body, string? Error, string? Redirect = null)
{
    public bool Ok => Error is null && Status is >= 200 and < 300;

    public string Text => System.Text.Encoding.UTF8.GetString(Body, 0, Math.Min(Body.Length, 300)).Trim();

    public string? Header(string name) =>
        Headers is not null && Headers.TryGetValues(name, out var values) ? string.Join(", ", values)
        : ContentHeaders is not null && ContentHeaders.TryGetValues(name, out var content) ? string.Join(", ", content)
        : null;
}

/// <summary>What the TLS handshake with the edge gave.</summary>
internal sealed record TlsProbe(SslProtocols Protocol, string? Alpn, string? Error);

/// <summary>
/// The doctor's only way out: requests to the site's hosts (the page's, and the measurement URL's when it differs),
/// addresses from the chosen resolver, certificates validated by the system or also against <c>--ca-file</c>, no proxy,
/// no cookie jar, no decompression (the doctor checks what the edge sends), and redirects followed only on those hosts.
/// </summary>
internal sealed class SiteConnection : IDisposable
{
    private const int MaxRedirects = 3;
    private readonly DoctorArguments _arguments;
    private readonly HashSet<string> _hosts;
    private readonly X509Certificate2Collection? _roots;
    private readonly HttpClient _client;

    public SiteConnection(DoctorArguments arguments)
    {
        _arguments = arguments;
        _hosts = new(StringComparer.OrdinalIgnoreCase) { arguments.Site.IdnHost, arguments.Measurement.IdnHost };
        if (arguments.CaFile is not null)
        {
            _roots = [];
            _roots.ImportFromPemFile(arguments.CaFile);
        }

        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = arguments.Timeout,
            ConnectCallback = ConnectAsync,
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = _roots is null ? null : Validate },
        };
        _client = new HttpClient(handler)
        {
            Timeout = arguments.Timeout,
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            MaxResponseContentBufferSize = 16 * 1024 * 1024,
        };
        _client.DefaultRequestHeaders.UserAgent.ParseAdd("TagGateway-doctor/1");
    }

    /// <summary>GET, following redirects only on the site's hosts; a redirect elsewhere is reported, never followed.</summary>
    public async Task<Fetched> GetAsync(Uri url, Action<HttpRequestMessage>? configure = null, CancellationToken cancellationToken = default)
    {
        for (var hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            configure?.Invoke(request);
            HttpResponseMessage response;
            try
            {
                response = await _client.SendAsync(request, cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException or SocketException)
            {
                return new Fetched(0, null, null, [], Describe(ex, url));
            }

            using (response)
            {
                var status = (int)response.StatusCode;
                if (status is >= 300 and < 400 && response.Headers.Location is { } location)
                {
                    var next = location.IsAbsoluteUri ? location : new Uri(url, location);
                    if (!_hosts.Contains(next.IdnHost) || hop >= MaxRedirects)
                    {
                        return new Fetched(status, response.Headers, response.Content.Headers, [], null, next.GetLeftPart(UriPartial.Path));
                    }

                    url = next;
                    continue;
                }

                byte[] body;
                try
                {
                    body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or IOException)
                {
                    return new Fetched(status, response.Headers, response.Content.Headers, [], Describe(ex, url));
                }

                return new Fetched(status, response.Headers, response.Content.Headers, body, null);
            }
        }
    }

    /// <summary>A TLS handshake of its own with the site's host, offering h2 and http/1.1, to see what the edge negotiates.</summary>
    public async Task<TlsProbe> ProbeTlsAsync(CancellationToken cancellationToken)
    {
        var site = _arguments.Site;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cancel.CancelAfter(_arguments.Timeout);
        try
        {
            await using var stream = await ConnectAsync(site.IdnHost, site.Port, cancel.Token);
            await using var tls = new SslStream(stream);
            await tls.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = site.IdnHost,
                    ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
                    RemoteCertificateValidationCallback = _roots is null ? null : Validate,
                },
                cancel.Token);
            var alpn = tls.NegotiatedApplicationProtocol == default ? null : tls.NegotiatedApplicationProtocol.ToString();
            return new TlsProbe(tls.SslProtocol, alpn, null);
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or SocketException or OperationCanceledException)
        {
            return new TlsProbe(SslProtocols.None, null, Describe(ex, site));
        }
    }

    /// <summary>The addresses of a host: its own literal, the <c>--dns</c> server's answer, or the system resolver's.</summary>
    public async Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            return [literal];
        }

        if (_arguments.Dns is not { } server)
        {
            return await Dns.GetHostAddressesAsync(host, cancellationToken);
        }

        var records = await DnsQuery.QueryAsync(server, host, DnsRecordType.A, _arguments.Timeout, cancellationToken);
        records.AddRange(await DnsQuery.QueryAsync(server, host, DnsRecordType.Aaaa, _arguments.Timeout, cancellationToken));
        var addresses = records.Where(static r => r.Type is DnsRecordType.A or DnsRecordType.Aaaa).Select(static r => IPAddress.Parse(r.Value)).ToArray();
        return addresses.Length > 0 ? addresses : throw new SocketException((int)SocketError.HostNotFound);
    }

    public void Dispose() => _client.Dispose();

    private ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken) =>
        ConnectAsync(context.DnsEndPoint.Host, context.DnsEndPoint.Port, cancellationToken);

    private async ValueTask<Stream> ConnectAsync(string host, int port, CancellationToken cancellationToken)
    {
        if (!_hosts.Contains(host))
        {
            // Belt and braces: redirects are checked before they are followed, so this is never reached by design.
            throw new HttpRequestException($"the doctor talks only to {string.Join(" and ", _hosts)}, not {host}");
        }

        // One address after the other, each on a socket of its own family (a host without IPv6 cannot open a dual-mode one).
        SocketException? last = null;
        foreach (var address in await ResolveAsync(host, cancellationToken))
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(address, port, cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    /// <summary>
    /// The system's verdict, except that a chain the system does not trust may end in a <c>--ca-file</c> root instead.
    /// A name mismatch or a missing certificate stays an error: the CA file widens trust, it never turns validation off.
    /// </summary>
    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || errors != SslPolicyErrors.RemoteCertificateChainErrors)
        {
            return false;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_roots!);

        // A private CA rarely publishes a revocation list the doctor could reach.
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            custom.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
        }

        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return custom.Build(leaf);
    }

    private static string Describe(Exception ex, Uri url)
    {
        var root = ex;
        while (root.InnerException is not null)
        {
            root = root.InnerException;
        }

        return ex switch
        {
            TaskCanceledException or OperationCanceledException => $"no answer from {url.IdnHost} within the timeout",
            _ when root is AuthenticationException || ex is AuthenticationException => $"TLS handshake with {url.IdnHost} failed: {root.Message}",
            _ when root is SocketException socket => $"could not connect to {url.IdnHost}:{url.Port}: {socket.SocketErrorCode} ({socket.Message})",
            _ => $"{root.GetType().Name}: {root.Message}",
        };
    }
}
