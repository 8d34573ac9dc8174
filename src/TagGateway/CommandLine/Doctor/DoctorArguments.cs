using System.Globalization;
using System.Net;

namespace TagGateway.CommandLine.Doctor;

/// <summary>What <c>TagGateway doctor</c> was asked to check.</summary>
internal sealed record DoctorArguments(
    Uri Site,
    Uri Measurement,
    string? TagId,
    bool SendTestHit,
    bool Json,
    string? Token,
    TimeSpan Timeout,
    IPEndPoint? Dns,
    string? CaFile)
{
    /// <summary>Where the token comes from when <c>--token</c> is not given (an argument shows in the process list).</summary>
    public const string TokenVariable = "TAGGATEWAY_DOCTOR_TOKEN";

    public const string Usage = """
        Usage: TagGateway doctor <site-url> [options]

        Walks a live deployment from outside, one line per check with what it saw and the fix: TLS and HTTP/2 on the
        edge, the measurement path's health, the loader and its cache headers, a test hit (opt-in), the identifier
        cookie's domain and lifetime, what the gateway saw of the edge (trust, client IP family, scheme, site host,
        geolocation) and Safari's rules for server-set cookies. It talks only to the site's host (and the DNS server)
        and follows no redirect off it.

        Options:
          --path /metrics          the measurement path (default /metrics), or its URL on a host of the site's domain
          --tag-id G-XXXX          the tag whose loader is fetched (and, G- only, whose test hit is sent)
          --send-test-hit          send one GA4 hit, event tag_gateway_doctor with _dbg=1 (debug mode: it shows in
                                   DebugView and GA4's developer-traffic filter removes it from reports)
          --token <secret>|env     the edge secret or Gateway:Management:DiagnosticToken, authorising the diagnostic
                                   request; "env" (or no --token) reads TAGGATEWAY_DOCTOR_TOKEN
          --timeout <seconds>      per request (default 10)
          --dns <host:port>        the DNS server to ask (default: the system's); the site's host is resolved there too
          --ca-file <pem>          also trust this CA (a private or self-signed edge certificate); never no validation
          --json                   the same checks as JSON

        Exit codes: 0 nothing red (green, or amber: not verified or could be better), 1 a check is red, 2 usage error.
        """;

    public static bool TryParse(string[] args, out DoctorArguments? parsed, out string? error)
    {
        parsed = null;
        string? site = null, path = null, tagId = null, token = null, timeout = null, dns = null, caFile = null;
        bool sendTestHit = false, json = false;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var equals = arg.StartsWith("--", StringComparison.Ordinal) ? arg.IndexOf('=', StringComparison.Ordinal) : -1;
            var name = equals > 0 ? arg[..equals] : arg;
            var inline = equals > 0 ? arg[(equals + 1)..] : null;
            switch (name)
            {
                case "--send-test-hit":
                    sendTestHit = true;
                    continue;
                case "--json":
                    json = true;
                    continue;
                case "--path" or "--tag-id" or "--token" or "--timeout" or "--dns" or "--ca-file":
                    var value = inline ?? (i + 1 < args.Length ? args[++i] : null);
                    if (value is null)
                    {
                        error = $"{name} needs a value.";
                        return false;
                    }

                    _ = name switch
                    {
                        "--path" => path = value,
                        "--tag-id" => tagId = value,
                        "--token" => token = value,
                        "--timeout" => timeout = value,
                        "--dns" => dns = value,
                        _ => caFile = value,
                    };
                    continue;
                default:
                    break;
            }

            if (arg.StartsWith('-') || site is not null)
            {
                error = $"Unknown doctor option '{arg}'. Run TagGateway doctor --help for the usage.";
                return false;
            }

            site = arg;
        }

        if (site is null || !Uri.TryCreate(site, UriKind.Absolute, out var siteUri) || siteUri.Scheme is not ("https" or "http") || siteUri.Host.Length == 0)
        {
            error = site is null
                ? "doctor needs the site's URL, e.g. TagGateway doctor https://www.example.com"
                : $"'{site}' is not an http(s) URL; give the site's page URL, e.g. https://www.example.com";
            return false;
        }

        var measurement = MeasurementUri(siteUri, path ?? "/metrics", out error);
        if (measurement is null)
        {
            return false;
        }

        if (tagId is not null && !Configuration.TagId.IsValid(tagId))
        {
            error = $"--tag-id '{tagId}' is not a Google tag ID (G-, GT-, GTM-, AW- or DC- and 4-16 upper-case letters or digits).";
            return false;
        }

        var seconds = 10.0;
        if (timeout is not null && (!double.TryParse(timeout, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds) || seconds is <= 0 or > 300))
        {
            error = $"--timeout '{timeout}' must be a number of seconds between 0 and 300.";
            return false;
        }

        IPEndPoint? dnsServer = null;
        if (dns is not null && !IPEndPoint.TryParse(dns, out dnsServer))
        {
            error = $"--dns '{dns}' must be an address and port, e.g. 127.0.0.1:53 or [::1]:53.";
            return false;
        }

        if (dnsServer is { Port: 0 })
        {
            dnsServer.Port = 53;
        }

        if (caFile is not null && !File.Exists(caFile))
        {
            error = $"--ca-file '{caFile}' does not exist.";
            return false;
        }

        if (token is null or "env")
        {
            token = Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null;
        }

        parsed = new DoctorArguments(siteUri, measurement, tagId, sendTestHit, json, token, TimeSpan.FromSeconds(seconds), dnsServer, caFile);
        error = null;
        return true;
    }

    /// <summary>The measurement path on the site's host, or an absolute URL on a host of the same registrable domain.</summary>
    private static Uri? MeasurementUri(Uri site, string path, out string? error)
    {
        error = null;
        if (path.StartsWith('/'))
        {
            if (!Configuration.MeasurementPath.TryValidate(path, out var invalid))
            {
                error = $"--path: {invalid}";
                return null;
            }

            return new Uri(site, path);
        }

        if (Uri.TryCreate(path, UriKind.Absolute, out var url) && url.Scheme == site.Scheme && url.AbsolutePath.Length > 1
            && SameSite(site.IdnHost, url.IdnHost))
        {
            return new Uri(url.GetLeftPart(UriPartial.Path).TrimEnd('/'));
        }

        error = $"--path '{path}' must be a path (/metrics) or a URL with the site's scheme on a host of the site's domain: the doctor talks to no other host.";
        return null;
    }

    private static bool SameSite(string a, string b)
    {
        if (string.Equals(a, b, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        var suffixes = DoctorSuffixes.List;
        var domain = suffixes.RegistrableDomain(a.ToLowerInvariant());
        return domain is not null && domain == suffixes.RegistrableDomain(b.ToLowerInvariant());
    }
}

/// <summary>The gateway's embedded public suffix list, loaded once for the doctor.</summary>
internal static class DoctorSuffixes
{
    private static readonly Lazy<Cookies.PublicSuffix.PublicSuffixList> Loaded = new(Cookies.PublicSuffix.PublicSuffixList.Embedded);

    public static Cookies.PublicSuffix.PublicSuffixList List => Loaded.Value;
}
