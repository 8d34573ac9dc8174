using System.Net;
using System.Text.Json;
using TagGateway.CommandLine.Doctor;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.CommandLine;

/// <summary>
/// <c>TagGateway doctor</c> against a loopback deployment (nginx edge with TLS and HTTP/2, the real gateway, a fake
/// Google, a fake DNS server): in good shape every line is green; each bad shape turns its own line red with its fix.
/// </summary>
public sealed class DoctorTests
{
    [SkippableFact]
    public async Task A_site_in_good_shape_is_all_green_on_the_real_process_and_the_test_hit_is_marked()
    {
        DoctorSite.RequireNginx();
        await using var site = await DoctorSite.StartAsync(new SiteShape());

        using var run = await GatewayProcess.RunAsync(["doctor", .. site.Arguments()]);

        var output = run.Stdout;
        Assert.True(run.ExitCode == 0, output + run.Stderr);
        Assert.Equal("[green] tls         TLS 1.3, certificate valid for www.example.test, HTTP/2 (ALPN h2)", DoctorSite.Line(output, "tls"));
        Assert.Equal("[green] health      GET /metrics/healthy → 200 ok (the gateway answers through the edge)", DoctorSite.Line(output, "health"));
        Assert.Matches(@"^\[green\] loader      GET /metrics/gtag/js\?id=G-TEST1234 → 200, \d+ bytes, Cache-Control .*max-age=\d+.*, ETag present, Content-Encoding br$", DoctorSite.Line(output, "loader"));
        Assert.Equal("[green] test-hit    GET /metrics/g/collect (event tag_gateway_doctor, _dbg=1) → 204: forwarded", DoctorSite.Line(output, "test-hit"));
        Assert.Equal("[green] cookie      FPID from www.example.test: Domain=example.test, lifetime 400 days", DoctorSite.Line(output, "cookie"));
        Assert.Equal("[green] edge        trusted edge yes (ReverseProxy), client IP IPv4, scheme https, site host www.example.test", DoctorSite.Line(output, "edge"));
        Assert.Equal("[green] geolocation country DE, region DE-BE", DoctorSite.Line(output, "geolocation"));
        Assert.Equal("[green] safari      the measurement path is on the page's own host www.example.test: same address, no CNAME of its own, so Safari keeps the cookies' lifetime", DoctorSite.Line(output, "safari"));
        Assert.EndsWith("All green.", output.TrimEnd(), StringComparison.Ordinal);

        // The test hit reached Google marked as debug traffic with its own event name, so reports can leave it out.
        var hit = Assert.Single(site.Upstream.Requests, r => r.PathAndQuery.Contains("/g/collect", StringComparison.Ordinal));
        Assert.Contains("en=tag_gateway_doctor", hit.PathAndQuery, StringComparison.Ordinal);
        Assert.Contains("_dbg=1", hit.PathAndQuery, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Json_lists_the_same_checks_in_order_with_their_status()
    {
        DoctorSite.RequireNginx();
        await using var site = await DoctorSite.StartAsync(new SiteShape());

        var (exit, output, _) = await DoctorSite.DoctorAsync(site.Arguments("--json"));

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(output);
        Assert.Equal(site.Url, json.RootElement.GetProperty("site").GetString());
        Assert.Equal(0, json.RootElement.GetProperty("exitCode").GetInt32());
        var checks = json.RootElement.GetProperty("checks").EnumerateArray().ToArray();
        Assert.Equal(new[] { "tls", "health", "loader", "test-hit", "cookie", "edge", "geolocation", "safari" }, checks.Select(c => c.GetProperty("id").GetString()));
        Assert.All(checks, c => Assert.Equal("green", c.GetProperty("status").GetString()));
        Assert.Equal("country DE, region DE-BE", checks[6].GetProperty("saw").GetString());
    }

    [SkippableFact]
    public async Task An_edge_without_geolocation_turns_the_geolocation_line_red_with_the_header_to_set()
    {
        DoctorSite.RequireNginx();
        await using var site = await DoctorSite.StartAsync(new SiteShape { Geolocation = false });

        var (exit, output, _) = await DoctorSite.DoctorAsync(site.Arguments());

        Assert.Equal(1, exit);
        Assert.Equal("[red]   geolocation no visitor location reached the gateway: every visitor gets the strict consent defaults | fix: have the proxy set X-Forwarded-CountryRegion (e.g. nginx's geoip2 module: CC-RR)", DoctorSite.Line(output, "geolocation"));
        Assert.StartsWith("[green] edge ", DoctorSite.Line(output, "edge"), StringComparison.Ordinal);
        Assert.Single(output.Split('\n'), l => l.StartsWith("[red]", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task A_site_over_plain_http_turns_the_tls_line_red_with_https_as_the_fix()
    {
        DoctorSite.RequireNginx();
        await using var site = await DoctorSite.StartAsync(new SiteShape { Tls = false });

        var (exit, output, _) = await DoctorSite.DoctorAsync(site.Arguments());

        Assert.Equal(1, exit);
        Assert.Equal("[red]   tls         www.example.test is served over plain HTTP: no TLS, no HTTP/2, and the cookies cannot be Secure | fix: serve the site over HTTPS at the edge (TLS certificate, port 443) and redirect http:// to https://", DoctorSite.Line(output, "tls"));
        Assert.StartsWith("[green] health ", DoctorSite.Line(output, "health"), StringComparison.Ordinal);
        Assert.Single(output.Split('\n'), l => l.StartsWith("[red]", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task A_cookie_domain_that_is_not_the_sites_turns_the_cookie_line_red_with_the_key_to_fix()
    {
        DoctorSite.RequireNginx();
        await using var site = await DoctorSite.StartAsync(new SiteShape { CookieDomain = "other.test" });

        var (exit, output, _) = await DoctorSite.DoctorAsync(site.Arguments());

        Assert.Equal(1, exit);
        Assert.Equal("[red]   cookie      FPID from www.example.test: Domain=other.test, lifetime 400 days; the site's registrable domain is example.test | fix: a browser drops a cookie for another domain: unset Cookies:Domain (the gateway then uses the registrable domain) or set it to example.test", DoctorSite.Line(output, "cookie"));
        Assert.Single(output.Split('\n'), l => l.StartsWith("[red]", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task An_upstream_that_is_down_turns_the_loader_line_red_and_names_the_gateways_outbound_access()
    {
        DoctorSite.RequireNginx();
        await using var site = await DoctorSite.StartAsync(new SiteShape { UpstreamDown = true });

        var (exit, output, _) = await DoctorSite.DoctorAsync(site.Arguments());

        Assert.Equal(1, exit);
        Assert.Matches(@"^\[red\]   loader      GET /metrics/gtag/js\?id=G-TEST1234 → 50\d .* \| fix: the gateway could not fetch the loader from Google: check its outbound access to Gateway:Upstreams \(fps\.goog in TagGateway mode, www\.googletagmanager\.com in Direct mode\) and its log for UpstreamUnavailable$", DoctorSite.Line(output, "loader"));
        Assert.Matches(@"^\[red\]   test-hit    GET /metrics/g/collect → 50\d .* \| fix: the gateway could not forward the hit: check its outbound access to Gateway:Upstreams and its log for UpstreamUnavailable$", DoctorSite.Line(output, "test-hit"));
        Assert.Equal("[amber] cookie      not checked: the gateway sets identifier cookies on hits, and no test hit was forwarded | fix: run with --send-test-hit and --tag-id G-XXXX", DoctorSite.Line(output, "cookie"));
        Assert.StartsWith("[green] health ", DoctorSite.Line(output, "health"), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_wrong_diagnostic_token_turns_the_edge_line_red_and_leaves_geolocation_unchecked()
    {
        DoctorSite.RequireNginx();
        await using var site = await DoctorSite.StartAsync(new SiteShape());

        var (exit, output, _) = await DoctorSite.DoctorAsync([.. site.Arguments(), "--token", "not-the-token"]);

        Assert.Equal(1, exit);
        const string Fix = "pass the edge secret (Gateway:ClientIdentity:EdgeSecret) or Gateway:Management:DiagnosticToken as the token, and let the edge pass the X-TagGateway-Diagnostic-Token header";
        Assert.Equal($"[red]   edge        GET /metrics/tg-doctor → 404: the gateway did not accept the diagnostic token | fix: {Fix}", DoctorSite.Line(output, "edge"));
        Assert.Equal($"[amber] geolocation not checked: the gateway's diagnostic did not answer (see the edge line) | fix: {Fix}", DoctorSite.Line(output, "geolocation"));
    }

    [SkippableFact]
    public async Task Without_a_token_and_a_test_hit_those_checks_are_amber_with_how_to_run_them_and_the_exit_is_0()
    {
        DoctorSite.RequireNginx();
        await using var site = await DoctorSite.StartAsync(new SiteShape());
        Environment.SetEnvironmentVariable(DoctorArguments.TokenVariable, null);

        var (exit, output, _) = await DoctorSite.DoctorAsync(site.Url, "--dns", site.Dns.EndPoint.ToString(), "--ca-file", site.CaFile);

        Assert.Equal(0, exit);
        Assert.Equal("[amber] loader      not checked: no tag ID given | fix: pass --tag-id G-XXXX (or GTM-XXXX) to fetch its loader", DoctorSite.Line(output, "loader"));
        Assert.Equal("[amber] test-hit    not sent (opt-in) | fix: add --send-test-hit to send one GA4 hit, event tag_gateway_doctor with _dbg=1, that reports leave out", DoctorSite.Line(output, "test-hit"));
        Assert.Equal("[amber] edge        not checked: no diagnostic token | fix: set TAGGATEWAY_DOCTOR_TOKEN (or --token) to the edge secret (Gateway:ClientIdentity:EdgeSecret) or Gateway:Management:DiagnosticToken", DoctorSite.Line(output, "edge"));
        Assert.Equal(0, site.Upstream.Count);
    }

    [SkippableFact]
    public async Task The_edge_secret_authorises_the_diagnostic_as_the_token_does()
    {
        DoctorSite.RequireNginx();
        await using var site = await DoctorSite.StartAsync(new SiteShape());

        var (exit, output, _) = await DoctorSite.DoctorAsync([.. site.Arguments(), "--token", DoctorSite.EdgeSecret]);

        Assert.Equal(0, exit);
        Assert.StartsWith("[green] edge        trusted edge yes", DoctorSite.Line(output, "edge"), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task An_untrusted_certificate_is_red_unless_its_ca_is_given_validation_is_never_off()
    {
        DoctorSite.RequireNginx();
        await using var site = await DoctorSite.StartAsync(new SiteShape());

        var (exit, output, _) = await DoctorSite.DoctorAsync(site.Url, "--dns", site.Dns.EndPoint.ToString(), "--tag-id", DoctorSite.TagId);

        Assert.Equal(1, exit);
        Assert.Matches(@"^\[red\]   tls         TLS handshake with www\.example\.test failed: .* \| fix: give the edge a certificate valid for the site's host from a public CA \(a private CA: pass it with --ca-file\)$", DoctorSite.Line(output, "tls"));
        Assert.StartsWith("[red]   health      GET /metrics/healthy: TLS handshake with www.example.test failed", DoctorSite.Line(output, "health"), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_measurement_host_that_is_a_cname_to_another_site_is_red_for_safari()
    {
        DoctorSite.RequireNginx();
        await using var site = await DoctorSite.StartAsync(new SiteShape());
        site.Dns.Add("m.example.test", DnsRecordType.Cname, "collect.tracker.test").Add("collect.tracker.test", DnsRecordType.A, "127.0.0.1");

        var (exit, output, _) = await DoctorSite.DoctorAsync([.. site.Arguments(), "--path", $"https://m.example.test:{site.Port}/metrics"]);

        Assert.Equal(1, exit);
        Assert.Equal("[red]   safari      m.example.test is a CNAME to collect.tracker.test, another site's domain: Safari caps the cookies it sets to 7 days | fix: serve the measurement path on www.example.test itself (Gateway:MeasurementPath behind the site's edge), or give m.example.test A/AAAA records of the site's own servers", DoctorSite.Line(output, "safari"));
    }

    [SkippableFact]
    public async Task A_measurement_host_outside_the_pages_16_is_red_for_safari_and_one_inside_is_green()
    {
        DoctorSite.RequireNginx();
        await using var site = await DoctorSite.StartAsync(new SiteShape());
        site.Dns.Add("m.example.test", DnsRecordType.A, "127.1.0.1");

        var (exit, output, _) = await DoctorSite.DoctorAsync([.. site.Arguments(), "--path", $"https://m.example.test:{site.Port}/metrics"]);

        Assert.Equal(1, exit);
        Assert.Equal("[red]   safari      m.example.test at 127.1.0.1, www.example.test at 127.0.0.1: not in the same /16 (IPv4) or /64 (IPv6), so Safari caps the cookies it sets to 7 days | fix: serve the measurement path on www.example.test itself, or from addresses in the page's own range", DoctorSite.Line(output, "safari"));

        // The same host name at an address in the page's /16: green.
        using var near = new FakeDns().Add(DoctorSite.PageHost, DnsRecordType.A, "127.0.0.1").Add("m.example.test", DnsRecordType.A, "127.0.0.1");
        var nearArguments = site.Arguments("--path", $"https://m.example.test:{site.Port}/metrics");
        nearArguments[Array.IndexOf(nearArguments, "--dns") + 1] = near.EndPoint.ToString();
        var (_, nearOutput, _) = await DoctorSite.DoctorAsync(nearArguments);
        Assert.Equal("[green] safari      m.example.test at 127.0.0.1, www.example.test at 127.0.0.1: same /16 (IPv4) or /64 (IPv6), no third-party CNAME", DoctorSite.Line(nearOutput, "safari"));
    }

    [Theory]
    [InlineData(new string[0], "doctor needs the site's URL, e.g. TagGateway doctor https://www.example.com")]
    [InlineData(new[] { "https://www.example.com", "--bogus" }, "Unknown doctor option '--bogus'. Run TagGateway doctor --help for the usage.")]
    [InlineData(new[] { "ftp://www.example.com" }, "'ftp://www.example.com' is not an http(s) URL")]
    [InlineData(new[] { "https://www.example.com", "--path", "https://elsewhere.test/metrics" }, "the doctor talks to no other host")]
    [InlineData(new[] { "https://www.example.com", "--tag-id", "UA-1" }, "--tag-id 'UA-1' is not a Google tag ID")]
    public async Task A_usage_error_says_what_is_wrong_and_exits_2(string[] args, string expected)
    {
        using var run = await GatewayProcess.RunAsync(["doctor", .. args]);

        Assert.Equal(2, run.ExitCode);
        Assert.Contains(expected, run.Stderr, StringComparison.Ordinal);
        Assert.Empty(run.Stdout);
    }

    [Fact]
    public async Task Doctor_help_lists_its_options_and_the_main_help_names_the_sub_command()
    {
        using var doctorHelp = await GatewayProcess.RunAsync(["doctor", "--help"]);
        using var help = await GatewayProcess.RunAsync(["--help"]);

        Assert.Equal(0, doctorHelp.ExitCode);
        foreach (var option in new[] { "--path", "--tag-id", "--send-test-hit", "--token", "--timeout", "--dns", "--ca-file", "--json", "TAGGATEWAY_DOCTOR_TOKEN" })
        {
            Assert.Contains(option, doctorHelp.Stdout, StringComparison.Ordinal);
        }

        Assert.Contains("TagGateway doctor <site-url>", help.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void The_dns_message_round_trips_with_a_compressed_cname_chain()
    {
        var query = DnsQuery.Build(0x1234, "m.example.test", DnsRecordType.A);
        Assert.Equal(new byte[] { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 }, query[..12]);

        // An answer as resolvers write it: owner names as pointers (to the question at 12, to the CNAME's target at
        // query.Length + 12), the CNAME target itself ending in a pointer to "example.test" (offset 14).
        byte[] answer =
        [
            0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
            .. query[12..],
            0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 10, 7, (byte)'c', (byte)'o', (byte)'l', (byte)'l', (byte)'e', (byte)'c', (byte)'t', 0xC0, 14,
            0xC0, (byte)(query.Length + 12), 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 7,
        ];

        Assert.True(DnsQuery.TryParse(answer, 0x1234, out var records, out var rcode));
        Assert.Equal(0, rcode);
        Assert.Equal(new DnsRecord("m.example.test", DnsRecordType.Cname, "collect.example.test"), records[0]);
        Assert.Equal(new DnsRecord("collect.example.test", DnsRecordType.A, "192.0.2.7"), records[1]);
        Assert.False(DnsQuery.TryParse(answer, 0x9999, out _, out _));
    }

    [Theory]
    [InlineData("203.0.113.5", "203.0.200.9", true)]
    [InlineData("203.0.113.5", "203.1.113.5", false)]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", true)]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:3::1", false)]
    [InlineData("203.0.113.5", "2001:db8::1", false)]
    public void Safaris_prefix_rule_is_the_first_16_bits_of_ipv4_and_64_of_ipv6(string a, string b, bool same) =>
        Assert.Equal(same, DoctorCommand.SamePrefix(IPAddress.Parse(a), IPAddress.Parse(b)));
}
