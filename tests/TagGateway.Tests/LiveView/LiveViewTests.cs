using System.Globalization;
using System.Net;
using System.Text.Json;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.LiveView;

/// <summary>The live view, setup check and report on the management listener, over real Kestrel and a loopback upstream.</summary>
public sealed class LiveViewTests
{
    private const string Granted = "gcs=G111&gcd=13v3v3v3v5";
    private const string Email = "jane.doe@example.com";
    private const string VisitorIp = "203.0.113.77";
    private const string GaCookieValue = "GA1.1.424242.1700000001";
    private const string FpidValue = "FPID2.2.deadbeefcafebabe0123456789abcdef";

    private static Dictionary<string, string?> Settings(FakeUpstream upstream, string edge = "Direct")
    {
        var settings = GatewayInstance.Settings(upstream.Origin);
        settings["Gateway:ClientIdentity:Edge"] = edge;
        return settings;
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient client, string path)
    {
        using var document = JsonDocument.Parse(await client.GetStringAsync(path));
        return document.RootElement.Clone();
    }

    [Fact]
    public async Task A_forwarded_hit_appears_with_its_events_consent_decision_and_cookie_names()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(Settings(upstream, "ReverseProxy"));

        using var request = new HttpRequestMessage(HttpMethod.Post, $"/metrics/g/collect?v=2&tid=G-TEST1234&cid=1162820436.1749482504&{Granted}")
        {
            Content = new StringContent("en=page_view\nen=scroll"),
        };
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-Host", "shop.example.co.uk");
        request.Headers.Add("X-Forwarded-CountryRegion", "DE-BY");
        using var response = await gateway.Public.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var written = response.Headers.TryGetValues("Set-Cookie", out var cookies) ? cookies.Select(c => c[..c.IndexOf('=', StringComparison.Ordinal)]).ToArray() : [];
        Assert.NotEmpty(written);

        var page = await GetJsonAsync(gateway.Management, "/ui/api/live");
        var entry = Assert.Single(page.GetProperty("entries").EnumerateArray());
        Assert.Equal("ga4", entry.GetProperty("route").GetString());
        Assert.Equal("G-TEST1234", entry.GetProperty("tag").GetString());
        Assert.Equal("1162820436.1749482504", entry.GetProperty("clientId").GetString());
        Assert.Equal("page_view", entry.GetProperty("event").GetString());
        Assert.Equal(2, entry.GetProperty("eventCount").GetInt32());
        Assert.Equal(204, entry.GetProperty("status").GetInt32());
        Assert.True(entry.GetProperty("https").GetBoolean());
        Assert.True(entry.GetProperty("analyticsStorage").GetProperty("granted").GetBoolean());
        Assert.StartsWith("signal", entry.GetProperty("analyticsStorage").GetProperty("source").GetString(), StringComparison.Ordinal);
        var analytics = entry.GetProperty("destinations").EnumerateArray().Single(d => d.GetProperty("name").GetString() == "Google Analytics");
        Assert.True(analytics.GetProperty("send").GetBoolean());
        Assert.True(analytics.GetProperty("identifiers").GetBoolean());

        // Every cookie the response set is listed by name with its lifetime and flags, never its value.
        var listed = entry.GetProperty("cookies").EnumerateArray().ToArray();
        Assert.Equal(written.Take(8), listed.Select(c => c.GetProperty("name").GetString()));
        Assert.Contains(listed, c => c.GetProperty("httpOnly").GetBoolean() && c.GetProperty("maxAgeSeconds").GetInt32() > 86400);
    }

    [Fact]
    public async Task Denied_consent_is_shown_with_the_region_default_as_its_source_and_filters_narrow_the_list()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(Settings(upstream));

        (await gateway.Public.GetAsync("/metrics/g/collect?v=2&tid=G-TEST1234&cid=1.1&en=page_view")).Dispose();
        (await gateway.Public.GetAsync("/metrics/g/collect?v=2&tid=G-TEST1234&cid=2.2&en=purchase")).Dispose();
        (await gateway.Public.GetAsync("/metrics/g/collect?v=2&tid=NOT-A-TAG!")).Dispose();

        var all = await GetJsonAsync(gateway.Management, "/ui/api/live");
        var entries = all.GetProperty("entries").EnumerateArray().ToArray();
        Assert.Equal(["refused", "ga4", "ga4"], entries.Select(e => e.GetProperty("route").GetString()));
        Assert.Equal(3, all.GetProperty("newest").GetInt64());

        var denied = entries[1];
        Assert.False(denied.GetProperty("analyticsStorage").GetProperty("granted").GetBoolean());
        Assert.Equal("region default", denied.GetProperty("analyticsStorage").GetProperty("source").GetString());
        Assert.Empty(denied.GetProperty("cookies").EnumerateArray());

        var one = await GetJsonAsync(gateway.Management, "/ui/api/live?client=1.1");
        Assert.Equal("page_view", Assert.Single(one.GetProperty("entries").EnumerateArray()).GetProperty("event").GetString());
        var refused = await GetJsonAsync(gateway.Management, "/ui/api/live?route=refused");
        Assert.Equal("malformed_tag_id", Assert.Single(refused.GetProperty("entries").EnumerateArray()).GetProperty("detail").GetString());
        var newer = await GetJsonAsync(gateway.Management, "/ui/api/live?after=2");
        Assert.Single(newer.GetProperty("entries").EnumerateArray());
    }

    [Fact]
    public async Task The_ring_keeps_only_its_capacity_newest_first()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = Settings(upstream);
        settings["Gateway:Management:LiveViewCapacity"] = "16";
        await using var gateway = await GatewayInstance.StartAsync(settings);

        for (var i = 1; i <= 20; i++)
        {
            (await gateway.Public.GetAsync($"/metrics/g/collect?v=2&tid=G-TEST1234&cid={i}.1&en=e{i}")).Dispose();
        }

        var page = await GetJsonAsync(gateway.Management, "/ui/api/live");
        var events = page.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("event").GetString()).ToArray();
        Assert.Equal(Enumerable.Range(5, 16).Reverse().Select(i => $"e{i}"), events);
    }

    [Fact]
    public async Task The_ui_exists_on_the_management_listener_only_and_not_when_turned_off()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using (var gateway = await GatewayInstance.StartAsync(Settings(upstream)))
        {
            using var page = await gateway.Management.GetAsync("/ui/");
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Contains("/ui/app.js", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            foreach (var path in new[] { "/ui/", "/ui/app.js", "/ui/api/live", "/ui/api/setup", "/ui/api/report" })
            {
                using var onPublic = await gateway.Public.GetAsync(path);
                Assert.Equal(HttpStatusCode.NotFound, onPublic.StatusCode);
            }
        }

        var off = Settings(upstream);
        off["Gateway:Management:UiEnabled"] = "false";
        await using var disabled = await GatewayInstance.StartAsync(off);
        using var none = await disabled.Management.GetAsync("/ui/api/live");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
    }

    [Fact]
    public async Task Setup_check_is_amber_for_geolocation_when_hits_arrive_without_it_and_green_with_it()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using (var direct = await GatewayInstance.StartAsync(Settings(upstream)))
        {
            Assert.Equal("grey", Line(await GetJsonAsync(direct.Management, "/ui/api/setup"), "geolocation").GetProperty("level").GetString());
            (await direct.Public.GetAsync("/metrics/g/collect?v=2&tid=G-TEST1234&cid=1.1&en=page_view")).Dispose();
            var setup = await GetJsonAsync(direct.Management, "/ui/api/setup");
            var geolocation = Line(setup, "geolocation");
            Assert.Equal("amber", geolocation.GetProperty("level").GetString());
            Assert.Contains("Gateway:ClientIdentity:Edge", geolocation.GetProperty("fix").GetString(), StringComparison.Ordinal);
            Assert.Equal("amber", Line(setup, "https").GetProperty("level").GetString());
            Assert.Equal("amber", Line(setup, "trusted-edge").GetProperty("level").GetString());
        }

        await using var edge = await GatewayInstance.StartAsync(Settings(upstream, "ReverseProxy"));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics/g/collect?v=2&tid=G-TEST1234&cid=1.1&en=page_view");
        request.Headers.Add("X-Forwarded-CountryRegion", "DE-BY");
        request.Headers.Add("X-Forwarded-Proto", "https");
        (await edge.Public.SendAsync(request)).Dispose();
        var withGeo = await GetJsonAsync(edge.Management, "/ui/api/setup");
        Assert.Equal("green", Line(withGeo, "geolocation").GetProperty("level").GetString());
        Assert.Equal("green", Line(withGeo, "trusted-edge").GetProperty("level").GetString());
        Assert.Equal("green", Line(withGeo, "https").GetProperty("level").GetString());
    }

    [Fact]
    public async Task Report_numbers_are_the_prometheus_counters()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(Settings(upstream));
        (await gateway.Public.GetAsync("/metrics/g/collect?v=2&tid=G-TEST1234&cid=1.1&en=page_view")).Dispose();
        (await gateway.Public.GetAsync("/metrics/gtag/js?id=G-TEST1234")).Dispose();
        (await gateway.Public.GetAsync("/metrics/gtag/js?id=G-TEST1234")).Dispose();
        (await gateway.Public.GetAsync("/metrics/g/collect?v=2&tid=BAD!")).Dispose();

        var report = await GetJsonAsync(gateway.Management, "/ui/api/report");
        var prometheus = ParsePrometheus(await gateway.Management.GetStringAsync("/metrics"));
        var samples = report.GetProperty("samples").EnumerateArray().ToArray();
        Assert.Contains(samples, s => s.GetProperty("metric").GetString() == "taggateway_script_cache_lookups_total");
        Assert.Contains(samples, s => s.GetProperty("metric").GetString() == "taggateway_requests_total");

        // The runtime's series are on /metrics but not in the report: they describe the process and move between reads.
        Assert.Contains(prometheus.Keys, static k => k.StartsWith("dotnet_gc_", StringComparison.Ordinal));
        Assert.DoesNotContain(samples, static s => s.GetProperty("metric").GetString()!.StartsWith("dotnet_", StringComparison.Ordinal));
        foreach (var sample in samples)
        {
            var key = sample.GetProperty("metric").GetString() + sample.GetProperty("labels").GetString();
            Assert.True(prometheus.TryGetValue(key, out var value), $"{key} is not in /metrics");
            Assert.Equal(value, sample.GetProperty("value").GetDouble());
        }

        using var download = await gateway.Management.GetAsync("/ui/api/report?download=true");
        Assert.StartsWith("attachment;", download.Content.Headers.ContentDisposition?.ToString() ?? download.Headers.GetValues("Content-Disposition").Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_email_ip_or_cookie_value_appears_in_any_ui_response()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(Settings(upstream, "ReverseProxy"));

        var email = Uri.EscapeDataString(Email);
        var setCookieValues = new List<string>();
        foreach (var target in new[]
        {
            $"/metrics/g/collect?v=2&tid=G-TEST1234&cid=77.88&en=purchase&{Granted}&em={email}",
            $"/metrics/g/collect?v=2&tid=G-TEST1234&cid=77.88&en=sign_up&em={email}",
            $"/metrics/pagead/conversion/123/?tid=AW-123456789&em={email}&{Granted}",
        })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = new StringContent($"en=login&em={email}") };
            request.Headers.Add("X-Forwarded-For", VisitorIp);
            request.Headers.Add("X-Forwarded-Proto", "https");
            request.Headers.Add("X-Forwarded-CountryRegion", "DE-BY");
            request.Headers.Add("Cookie", $"_ga={GaCookieValue}; FPID={FpidValue}");
            using var response = await gateway.Public.SendAsync(request);
            if (response.Headers.TryGetValues("Set-Cookie", out var cookies))
            {
                setCookieValues.AddRange(cookies.Select(c => c.Split(';')[0].Split('=', 2)[1]).Where(v => v.Length > 6));
            }
        }

        var responses = new List<string>();
        foreach (var path in new[] { "/ui/", "/ui/app.js", "/ui/app.css", "/ui/api/live", "/ui/api/live?route=ga4", "/ui/api/setup", "/ui/api/report", "/ui/api/report?download=true" })
        {
            responses.Add(await gateway.Management.GetStringAsync(path));
        }

        Assert.Contains("77.88", responses[3], StringComparison.Ordinal);
        Assert.NotEmpty(setCookieValues);
        var secrets = new[] { Email, email, "jane.doe", VisitorIp, "203.0.113", GaCookieValue, "424242.1700000001", FpidValue, "deadbeefcafebabe" }.Concat(setCookieValues);
        foreach (var body in responses)
        {
            foreach (var secret in secrets)
            {
                Assert.DoesNotContain(secret, body, StringComparison.OrdinalIgnoreCase);
            }
        }
    }

    [Fact]
    public async Task Demo_page_shows_the_set_cookie_headers_without_values_and_links_to_the_live_view()
    {
        await using var gateway = await GatewayInstance.StartAsync(new()
        {
            ["Gateway:PublicUrl"] = "http://127.0.0.1:0",
            ["Gateway:ManagementUrl"] = "http://127.0.0.1:0",
            ["Gateway:Demo:UpstreamUrl"] = FakeUpstream.ClosedOrigin().GetLeftPart(UriPartial.Authority),
            ["Logging:LogLevel:Default"] = "Warning",
        });

        Assert.Contains("/demo/set-cookies", await gateway.Public.GetStringAsync("/"), StringComparison.Ordinal);
        using var hit = await gateway.Public.PostAsync("/metrics/g/collect?v=2&tid=G-DEMO1234&cid=1.2&en=page_view", new StringContent("en=scroll"));
        var value = Assert.Single(hit.Headers.GetValues("Set-Cookie")).Split(';')[0].Split('=', 2)[1];

        var body = await gateway.Public.GetStringAsync("/demo/set-cookies");
        using var json = JsonDocument.Parse(body);
        var header = Assert.Single(json.RootElement.GetProperty("setCookie").EnumerateArray()).GetString();
        Assert.Equal("Set-Cookie: FPID=…; Max-Age=34560000 (400 days); HttpOnly", header);
        Assert.DoesNotContain(value, body, StringComparison.Ordinal);
        var liveView = new Uri(json.RootElement.GetProperty("liveView").GetString()!);
        using var ui = await gateway.Management.GetAsync(liveView.PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, ui.StatusCode);
        Assert.Equal(gateway.Management.BaseAddress!.Port, liveView.Port);
    }

    private static JsonElement Line(JsonElement setup, string id) =>
        setup.GetProperty("lines").EnumerateArray().Single(l => l.GetProperty("id").GetString() == id);

    /// <summary>Series name with its label set (as exposed) to value.</summary>
    internal static Dictionary<string, double> ParsePrometheus(string text)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var space = line.LastIndexOf(' ');
            values[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }

        return values;
    }
}
