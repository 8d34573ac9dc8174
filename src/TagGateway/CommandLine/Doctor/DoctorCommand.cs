using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text.Json;
using TagGateway.ClientIdentity;

namespace TagGateway.CommandLine.Doctor;

/// <summary>
/// <c>TagGateway doctor &lt;site-url&gt;</c>: walks a live deployment from outside and says, one line per check, what it
/// saw and what to fix. A sub-command of the binary; nothing of it runs in a serving gateway.
/// </summary>
internal sealed class DoctorCommand : IDisposable
{
    /// <summary>The test hit's event name: findable in DebugView, and filterable by name as well as by debug mode.</summary>
    public const string TestEventName = "tag_gateway_doctor";

    /// <summary>A cookie shorter-lived than this is reported: Safari's cap for script-set cookies is 7 days, a year is usual.</summary>
    private static readonly TimeSpan LongLifetime = TimeSpan.FromDays(90);

    private readonly DoctorArguments _arguments;
    private readonly SiteConnection _site;

    private DoctorCommand(DoctorArguments arguments)
    {
        _arguments = arguments;
        _site = new SiteConnection(arguments);
    }

    /// <summary>Runs the doctor; returns the exit code (0 nothing red, 1 a red check, 2 a usage error).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        if (args is ["--help" or "-h" or "help"])
        {
            await output.WriteLineAsync(DoctorArguments.Usage);
            return 0;
        }

        if (!DoctorArguments.TryParse(args, out var arguments, out var problem))
        {
            await error.WriteLineAsync(problem);
            return 2;
        }

        using var doctor = new DoctorCommand(arguments!);
        var report = await doctor.CheckAsync(cancellationToken);
        await output.WriteLineAsync(arguments!.Json ? report.ToJson() : report.ToText());
        return report.ExitCode;
    }

    public void Dispose() => _site.Dispose();

    private Uri Measurement(string rest) => new(_arguments.Measurement.GetLeftPart(UriPartial.Path).TrimEnd('/') + rest);

    private string PathOf(string rest) => _arguments.Measurement.AbsolutePath.TrimEnd('/') + rest;

    internal async Task<DoctorReport> CheckAsync(CancellationToken cancellationToken)
    {
        var checks = new List<DoctorCheck>
        {
            await CheckTlsAsync(cancellationToken),
            await CheckHealthAsync(cancellationToken),
            await CheckLoaderAsync(cancellationToken),
        };

        var hit = _arguments.SendTestHit && _arguments.TagId is { } tag && tag.StartsWith("G-", StringComparison.Ordinal)
            ? await _site.GetAsync(Measurement(TestHitQuery(tag)), cancellationToken: cancellationToken)
            : null;
        checks.Add(CheckTestHit(hit));
        checks.Add(CheckCookie(hit));

        var (diagnostic, edge) = await CheckEdgeAsync(cancellationToken);
        checks.Add(edge);
        checks.Add(CheckGeolocation(diagnostic, edge));
        checks.Add(await CheckSafariAsync(cancellationToken));
        return new DoctorReport(_arguments.Site.ToString(), _arguments.Measurement.ToString(), checks);
    }

    // 7. TLS and HTTP/2 at the edge.
    private async Task<DoctorCheck> CheckTlsAsync(CancellationToken cancellationToken)
    {
        if (_arguments.Site.Scheme != Uri.UriSchemeHttps)
        {
            return new("tls", CheckStatus.Red, $"{_arguments.Site.IdnHost} is served over plain HTTP: no TLS, no HTTP/2, and the cookies cannot be Secure",
                "serve the site over HTTPS at the edge (TLS certificate, port 443) and redirect http:// to https://");
        }

        var probe = await _site.ProbeTlsAsync(cancellationToken);
        if (probe.Error is not null)
        {
            return new("tls", CheckStatus.Red, probe.Error,
                probe.Error.Contains("TLS", StringComparison.Ordinal)
                    ? "give the edge a certificate valid for the site's host from a public CA (a private CA: pass it with --ca-file)"
                    : "check the site's DNS and that the edge listens on port " + _arguments.Site.Port.ToString(CultureInfo.InvariantCulture));
        }

        var version = probe.Protocol switch
        {
            SslProtocols.Tls13 => "TLS 1.3",
            SslProtocols.Tls12 => "TLS 1.2",
            _ => probe.Protocol.ToString(),
        };
        if (probe.Protocol is not (SslProtocols.Tls13 or SslProtocols.Tls12))
        {
            return new("tls", CheckStatus.Red, $"{version} negotiated", "allow only TLS 1.2 and 1.3 at the edge");
        }

        return probe.Alpn == "h2"
            ? new("tls", CheckStatus.Green, $"{version}, certificate valid for {_arguments.Site.IdnHost}, HTTP/2 (ALPN h2)")
            : new("tls", CheckStatus.Amber, $"{version}, certificate valid, but no HTTP/2 (ALPN {probe.Alpn ?? "none"})",
                "enable HTTP/2 at the edge (nginx: listen 443 ssl http2; most CDNs: on by default): the tag's requests then share one connection");
    }

    // 1. The measurement path answers "healthy" through the edge.
    private async Task<DoctorCheck> CheckHealthAsync(CancellationToken cancellationToken)
    {
        var url = Measurement("/healthy");
        var fetched = await _site.GetAsync(url, cancellationToken: cancellationToken);
        var path = PathOf("/healthy");
        if (fetched.Error is not null)
        {
            return new("health", CheckStatus.Red, $"GET {path}: {fetched.Error}", "check the site's DNS, the edge's listener and --timeout");
        }

        if (fetched.Redirect is not null)
        {
            return new("health", CheckStatus.Red, $"GET {path} → {fetched.Status} to {fetched.Redirect} (not followed: the doctor stays on the site's host)",
                $"route {_arguments.Measurement.AbsolutePath}/* at the edge to the gateway, without a redirect");
        }

        if (fetched.Status == 200 && fetched.Text == "ok")
        {
            return new("health", CheckStatus.Green, $"GET {path} → 200 ok (the gateway answers through the edge)");
        }

        var fix = fetched.Status switch
        {
            404 => $"the edge does not send {_arguments.Measurement.AbsolutePath}/* to the gateway, or Gateway:MeasurementPath differs: add the route to the gateway's public listener",
            502 or 503 or 504 => "the edge cannot reach the gateway: is TagGateway running, and is the edge's origin its Gateway:PublicUrl?",
            _ => "the answer is not the gateway's: route the measurement path to TagGateway's public listener",
        };
        return new("health", CheckStatus.Red, $"GET {path} → {fetched.Status} {Quote(fetched.Text)}", fix);
    }

    // 2. The loader, served through the edge with cache headers and compression.
    private async Task<DoctorCheck> CheckLoaderAsync(CancellationToken cancellationToken)
    {
        if (_arguments.TagId is not { } tag)
        {
            return new("loader", CheckStatus.Amber, "not checked: no tag ID given", "pass --tag-id G-XXXX (or GTM-XXXX) to fetch its loader");
        }

        var rest = tag.StartsWith("GTM-", StringComparison.Ordinal) ? "/gtm.js?id=" + tag : "/gtag/js?id=" + tag;
        var fetched = await _site.GetAsync(Measurement(rest), static r => r.Headers.TryAddWithoutValidation("Accept-Encoding", "br, gzip"), cancellationToken);
        var path = PathOf(rest);
        if (fetched.Error is not null)
        {
            return new("loader", CheckStatus.Red, $"GET {path}: {fetched.Error}", "check the edge and the gateway (see the health line)");
        }

        if (fetched.Status != 200)
        {
            var fix = fetched.Status switch
            {
                502 or 503 or 504 => "the gateway could not fetch the loader from Google: check its outbound access to Gateway:Upstreams (fps.goog in TagGateway mode, www.googletagmanager.com in Direct mode) and its log for UpstreamUnavailable",
                400 or 403 => $"the gateway refused the tag: add {tag} to Gateway:TagIds",
                404 => $"the edge does not route {_arguments.Measurement.AbsolutePath}/* to the gateway",
                _ => "see the gateway's log for this request",
            };
            return new("loader", CheckStatus.Red, $"GET {path} → {fetched.Status} {Quote(fetched.Text)}", fix);
        }

        var cacheControl = fetched.Header("Cache-Control");
        var etag = fetched.Header("ETag");
        var encoding = fetched.Header("Content-Encoding");
        var saw = $"GET {path} → 200, {fetched.Body.Length} bytes, Cache-Control {cacheControl ?? "none"}, ETag {(etag is null ? "none" : "present")}, Content-Encoding {encoding ?? "none"}";
        var cacheable = cacheControl is not null && cacheControl.Contains("max-age=", StringComparison.OrdinalIgnoreCase)
            && !cacheControl.Contains("no-store", StringComparison.OrdinalIgnoreCase);
        if (!cacheable || etag is null)
        {
            return new("loader", CheckStatus.Amber, saw, "the edge drops or overrides the gateway's Cache-Control/ETag: pass the origin's caching headers through");
        }

        return encoding is "br" or "gzip"
            ? new("loader", CheckStatus.Green, saw)
            : new("loader", CheckStatus.Amber, saw, "the loader arrives uncompressed: the edge must pass Accept-Encoding to the gateway and keep its Content-Encoding");
    }

    /// <summary>
    /// A GA4 hit marked twice so it never counts: <c>_dbg=1</c> is what gtag sends in debug mode (it shows in DebugView, and
    /// GA4's "developer traffic" data filter removes such events from reports), and its own event name finds it there.
    /// <c>gcs=G111</c>: the operator running the doctor is the visitor, and consents, so the identifier cookie is set.
    /// </summary>
    private string TestHitQuery(string tag)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return $"/g/collect?v=2&tid={tag}&cid=1000000000.{now}&sid={now}&en={TestEventName}&_dbg=1&gcs=G111&dl={Uri.EscapeDataString(_arguments.Site.ToString())}";
    }

    // 3. The test hit is forwarded.
    private DoctorCheck CheckTestHit(Fetched? hit)
    {
        if (!_arguments.SendTestHit)
        {
            return new("test-hit", CheckStatus.Amber, "not sent (opt-in)", $"add --send-test-hit to send one GA4 hit, event {TestEventName} with _dbg=1, that reports leave out");
        }

        if (hit is null)
        {
            return new("test-hit", CheckStatus.Amber, "not sent: the test hit is a GA4 hit and needs a G- measurement ID", "pass --tag-id G-XXXX");
        }

        var path = PathOf("/g/collect");
        if (hit.Error is not null)
        {
            return new("test-hit", CheckStatus.Red, $"GET {path}: {hit.Error}", "check the edge and the gateway (see the health line)");
        }

        if (hit.Ok)
        {
            return new("test-hit", CheckStatus.Green, $"GET {path} (event {TestEventName}, _dbg=1) → {hit.Status}: forwarded");
        }

        var fix = hit.Status switch
        {
            502 or 503 or 504 => "the gateway could not forward the hit: check its outbound access to Gateway:Upstreams and its log for UpstreamUnavailable",
            400 or 403 => $"the gateway refused the hit: is {_arguments.TagId} in Gateway:TagIds? (its log names the reason)",
            404 => $"the edge does not route {_arguments.Measurement.AbsolutePath}/g/collect to the gateway",
            _ => "see the gateway's log for this request",
        };
        return new("test-hit", CheckStatus.Red, $"GET {path} → {hit.Status} {Quote(hit.Text)}", fix);
    }

    // 4. The hit's Set-Cookie: from the site's own host, Domain = the registrable domain, a long lifetime.
    private DoctorCheck CheckCookie(Fetched? hit)
    {
        if (hit is null || !hit.Ok)
        {
            return new("cookie", CheckStatus.Amber, "not checked: the gateway sets identifier cookies on hits, and no test hit was forwarded",
                "run with --send-test-hit and --tag-id G-XXXX");
        }

        var host = _arguments.Measurement.IdnHost.ToLowerInvariant();
        var expected = DoctorSuffixes.List.RegistrableDomain(host);
        var cookies = SetCookie.ParseAll(hit.Headers is not null && hit.Headers.TryGetValues("Set-Cookie", out var values) ? values : []);
        var identifier = cookies.Where(static c => c.Lifetime is not { } l || l > TimeSpan.Zero).OrderByDescending(static c => c.Lifetime ?? TimeSpan.Zero).FirstOrDefault();
        if (identifier is null)
        {
            return new("cookie", CheckStatus.Amber, $"the test hit's answer from {host} set no cookie",
                "check Cookies:Enabled and Cookies:ServerIdName, and that the edge passes Set-Cookie through");
        }

        var lifetime = identifier.Lifetime is { } l2 ? $"{Math.Round(l2.TotalDays)} days" : "session";
        var saw = $"{identifier.Name} from {host}: Domain={identifier.Domain ?? "(host-only)"}, lifetime {lifetime}";
        if (identifier.Domain is { } domain && !string.Equals(domain.TrimStart('.'), expected, StringComparison.OrdinalIgnoreCase))
        {
            return new("cookie", CheckStatus.Red, saw + $"; the site's registrable domain is {expected ?? "(none)"}",
                $"a browser drops a cookie for another domain: unset Cookies:Domain (the gateway then uses the registrable domain) or set it to {expected}");
        }

        if (identifier.Domain is null)
        {
            return new("cookie", CheckStatus.Amber, saw,
                $"host-only cookies miss the site's other hosts: set Gateway:SiteHosts:0={expected ?? host} or have the trusted edge pass the site's host");
        }

        if (identifier.Lifetime is not { } life || life < LongLifetime)
        {
            return new("cookie", CheckStatus.Amber, saw, $"identifier cookies should live long (a year or more): raise Cookies:Identifiers:{identifier.Name}:MaxAge");
        }

        return new("cookie", CheckStatus.Green, saw);
    }

    // 5. What the gateway saw of the edge: its diagnostic, answered only to the edge secret or the diagnostic token.
    private async Task<(EdgeDiagnosticReport? Report, DoctorCheck Check)> CheckEdgeAsync(CancellationToken cancellationToken)
    {
        var path = PathOf(EdgeDiagnostic.Path);
        if (_arguments.Token is not { } token)
        {
            return (null, new("edge", CheckStatus.Amber, "not checked: no diagnostic token",
                $"set {DoctorArguments.TokenVariable} (or --token) to the edge secret (Gateway:ClientIdentity:EdgeSecret) or Gateway:Management:DiagnosticToken"));
        }

        var fetched = await _site.GetAsync(Measurement(EdgeDiagnostic.Path), r => r.Headers.TryAddWithoutValidation(EdgeDiagnostic.TokenHeader, token), cancellationToken);
        if (fetched.Error is not null)
        {
            return (null, new("edge", CheckStatus.Red, $"GET {path}: {fetched.Error}", "check the edge and the gateway (see the health line)"));
        }

        EdgeDiagnosticReport? report = null;
        if (fetched.Status == 200)
        {
            try
            {
                report = JsonSerializer.Deserialize(fetched.Body, EdgeDiagnosticJsonContext.Default.EdgeDiagnosticReport);
            }
            catch (JsonException)
            {
            }
        }

        if (report is null)
        {
            return (null, new("edge", CheckStatus.Red, $"GET {path} → {fetched.Status}: the gateway did not accept the diagnostic token",
                $"pass the edge secret (Gateway:ClientIdentity:EdgeSecret) or Gateway:Management:DiagnosticToken as the token, and let the edge pass the {EdgeDiagnostic.TokenHeader} header"));
        }

        var saw = $"trusted edge {(report.TrustedEdge ? "yes" : "no")} ({report.Edge}), client IP {report.ClientIpFamily ?? "none"}, scheme {report.Scheme}, site host {report.SiteHost ?? "none"}";
        if (!report.TrustedEdge)
        {
            var fix = report.Edge == "Direct"
                ? "set Gateway:ClientIdentity:Edge to the edge in front of the gateway (Cloudflare, CloudflareWorker, GoogleLoadBalancer, ReverseProxy)"
                : "add the edge's address to Gateway:ClientIdentity:TrustedProxies and have the edge send X-TagGateway-Secret with Gateway:ClientIdentity:EdgeSecret";
            return (report, new("edge", CheckStatus.Red, saw, fix));
        }

        if (report.ClientIpFamily is null)
        {
            return (report, new("edge", CheckStatus.Red, saw, "the edge must pass the visitor's IP (X-Forwarded-For, CF-Connecting-IP or the Worker's X-TagGateway-Client-IP)"));
        }

        if (_arguments.Site.Scheme == Uri.UriSchemeHttps && report.Scheme != "https")
        {
            return (report, new("edge", CheckStatus.Red, saw, "the edge must pass the visitor's scheme (X-Forwarded-Proto: https), or cookies lose Secure"));
        }

        if (report.SiteHost is null)
        {
            return (report, new("edge", CheckStatus.Amber, saw, "the gateway cannot name the cookie domain: set Gateway:SiteHosts or have the edge pass the site's host"));
        }

        return (report, new("edge", CheckStatus.Green, saw));
    }

    private static DoctorCheck CheckGeolocation(EdgeDiagnosticReport? report, DoctorCheck edge)
    {
        if (report is null)
        {
            return new("geolocation", CheckStatus.Amber, "not checked: the gateway's diagnostic did not answer (see the edge line)", edge.Fix);
        }

        var fix = report.Edge switch
        {
            "Cloudflare" => "turn on Cloudflare's \"Add visitor location headers\" managed transform (CF-IPCountry, CF-Region-Code)",
            "CloudflareWorker" => "deploy the Worker from edge-config/ (it sets X-TagGateway-Country and X-TagGateway-Region from request.cf)",
            "GoogleLoadBalancer" => "add the load balancer's custom request headers X-Gclb-Country: {client_region} and X-Gclb-Region: {client_region_subdivision}",
            "ReverseProxy" => "have the proxy set X-Forwarded-CountryRegion (e.g. nginx's geoip2 module: CC-RR)",
            _ => "put an edge that knows the visitor's location in front (Gateway:ClientIdentity:Edge)",
        };
        if (!report.TrustedEdge || report.Country is null)
        {
            return new("geolocation", CheckStatus.Red, "no visitor location reached the gateway: every visitor gets the strict consent defaults", fix);
        }

        return report.CountryRegion is { } region && region.Contains('-', StringComparison.Ordinal)
            ? new("geolocation", CheckStatus.Green, $"country {report.Country}, region {region}")
            : new("geolocation", CheckStatus.Amber, $"country {report.Country}, no region", "pass the region too: regional consent defaults (US states) need it; " + fix);
    }

    // 6. Safari's rules for server-set cookies: the measurement host's address near the page's, and no third-party CNAME.
    private async Task<DoctorCheck> CheckSafariAsync(CancellationToken cancellationToken)
    {
        var page = _arguments.Site.IdnHost.ToLowerInvariant();
        var measurement = _arguments.Measurement.IdnHost.ToLowerInvariant();
        if (page == measurement)
        {
            return new("safari", CheckStatus.Green, $"the measurement path is on the page's own host {page}: same address, no CNAME of its own, so Safari keeps the cookies' lifetime");
        }

        var server = _arguments.Dns ?? DnsQuery.SystemResolver();
        if (server is null)
        {
            return new("safari", CheckStatus.Amber, "not checked: no DNS server (no --dns, none in /etc/resolv.conf)", "pass --dns <resolver:53>");
        }

        try
        {
            var measurementRecords = await QueryBothAsync(server, measurement, cancellationToken);
            var pageRecords = await QueryBothAsync(server, page, cancellationToken);
            var siteDomain = DoctorSuffixes.List.RegistrableDomain(page);
            var thirdParty = measurementRecords.Where(static r => r.Type == DnsRecordType.Cname)
                .Select(static r => r.Value)
                .FirstOrDefault(target => DoctorSuffixes.List.RegistrableDomain(target) != siteDomain);
            if (thirdParty is not null)
            {
                return new("safari", CheckStatus.Red, $"{measurement} is a CNAME to {thirdParty}, another site's domain: Safari caps the cookies it sets to 7 days",
                    $"serve the measurement path on {page} itself (Gateway:MeasurementPath behind the site's edge), or give {measurement} A/AAAA records of the site's own servers");
            }

            var pageAddresses = Addresses(pageRecords);
            var measurementAddresses = Addresses(measurementRecords);
            if (pageAddresses.Length == 0 || measurementAddresses.Length == 0)
            {
                return new("safari", CheckStatus.Amber, $"no address for {(pageAddresses.Length == 0 ? page : measurement)} from {server}", "check the DNS records, or pass --dns");
            }

            var near = measurementAddresses.Any(m => pageAddresses.Any(p => SamePrefix(m, p)));
            var saw = $"{measurement} at {string.Join(", ", measurementAddresses.Select(static a => a.ToString()))}, {page} at {string.Join(", ", pageAddresses.Select(static a => a.ToString()))}";
            return near
                ? new("safari", CheckStatus.Green, saw + ": same /16 (IPv4) or /64 (IPv6), no third-party CNAME")
                : new("safari", CheckStatus.Red, saw + ": not in the same /16 (IPv4) or /64 (IPv6), so Safari caps the cookies it sets to 7 days",
                    $"serve the measurement path on {page} itself, or from addresses in the page's own range");
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ArgumentException)
        {
            return new("safari", CheckStatus.Amber, $"not checked: DNS query to {server} failed ({ex.Message})", "pass --dns <resolver:53>");
        }
    }

    private async Task<List<DnsRecord>> QueryBothAsync(IPEndPoint server, string host, CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(host.Trim('[', ']'), out var literal))
        {
            return [new DnsRecord(host, literal.AddressFamily == AddressFamily.InterNetworkV6 ? DnsRecordType.Aaaa : DnsRecordType.A, literal.ToString())];
        }

        var records = await DnsQuery.QueryAsync(server, host, DnsRecordType.A, _arguments.Timeout, cancellationToken);
        records.AddRange(await DnsQuery.QueryAsync(server, host, DnsRecordType.Aaaa, _arguments.Timeout, cancellationToken));
        return records;
    }

    private static IPAddress[] Addresses(List<DnsRecord> records) =>
        [.. records.Where(static r => r.Type is DnsRecordType.A or DnsRecordType.Aaaa).Select(static r => IPAddress.Parse(r.Value)).Distinct()];

    /// <summary>Safari's "same first half" rule: the first 16 bits of an IPv4 address, the first 64 of an IPv6 one.</summary>
    internal static bool SamePrefix(IPAddress a, IPAddress b)
    {
        if (a.AddressFamily != b.AddressFamily)
        {
            return false;
        }

        var prefixBytes = a.AddressFamily == AddressFamily.InterNetwork ? 2 : 8;
        return a.GetAddressBytes().AsSpan(0, prefixBytes).SequenceEqual(b.GetAddressBytes().AsSpan(0, prefixBytes));
    }

    private static string Quote(string text) => text.Length == 0 ? "(empty body)" : "\"" + text.ReplaceLineEndings(" ") + "\"";
}

/// <summary>The attributes of a <c>Set-Cookie</c> line the doctor judges.</summary>
internal sealed record SetCookie(string Name, string? Domain, TimeSpan? Lifetime)
{
    public static List<SetCookie> ParseAll(IEnumerable<string> lines)
    {
        var cookies = new List<SetCookie>();
        foreach (var line in lines)
        {
            var parts = line.Split(';', StringSplitOptions.TrimEntries);
            var equals = parts[0].IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }

            string? domain = null;
            TimeSpan? lifetime = null;
            foreach (var attribute in parts.AsSpan(1))
            {
                var eq = attribute.IndexOf('=', StringComparison.Ordinal);
                var name = eq < 0 ? attribute : attribute[..eq];
                var value = eq < 0 ? string.Empty : attribute[(eq + 1)..];
                if (name.Equals("Domain", StringComparison.OrdinalIgnoreCase))
                {
                    domain = value.ToLowerInvariant();
                }
                else if (name.Equals("Max-Age", StringComparison.OrdinalIgnoreCase) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds))
                {
                    // Max-Age wins over Expires (RFC 6265 5.3).
                    lifetime = TimeSpan.FromSeconds(seconds);
                }
                else if (name.Equals("Expires", StringComparison.OrdinalIgnoreCase) && lifetime is null
                    && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expires))
                {
                    lifetime = expires - DateTimeOffset.UtcNow;
                }
            }

            cookies.Add(new SetCookie(parts[0][..equals], domain, lifetime));
        }

        return cookies;
    }
}
