using System.Diagnostics;
using System.Text.Json;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.LiveView;

/// <summary>
/// Debian's Chromium (playwright-core, tests/browser/live-view.mjs) opens /ui/ on the management listener while hits
/// arrive on the public one: they appear with their consent decision and cookies, the setup check is amber without
/// geolocation, the report's numbers are the Prometheus counters, and each page's screenshot is written and not blank.
/// Skipped where Chromium or the node packages are missing, unless TAGGATEWAY_REQUIRE_BROWSER=1.
/// </summary>
public sealed class BrowserLiveViewTests
{
    private static readonly string BrowserDirectory = BrowserRequirement.Directory;

    [SkippableFact]
    public async Task Live_view_shows_hits_with_consent_and_cookies_setup_is_amber_without_geolocation_and_report_equals_metrics()
    {
        BrowserRequirement.Require();
        await using var upstream = await FakeUpstream.StartAsync();
        await using var meta = await FakeUpstream.StartAsync(static (context, _) => Microsoft.AspNetCore.Http.HttpResponseWritingExtensions.WriteAsync(context.Response, """{"events_received":1}"""));
        var store = Path.Combine(Path.GetTempPath(), "tg-browser-live-" + Guid.NewGuid().ToString("N"));

        // A trusted edge that passes the scheme and host but no location: hits are granted and get cookies, geolocation
        // is missing. Meta is configured, so a CAPI ingest is delivered and reported.
        var settings = CapiLiveViewTests.Settings(upstream, meta, store);
        await using var gateway = await GatewayInstance.StartAsync(settings);
        var management = gateway.Management.BaseAddress!;
        var publicOrigin = $"http://127.0.0.1:{gateway.PublicEndPoint.Port}";
        var output = Path.Combine(AppContext.BaseDirectory, "browser-output", "live-view");

        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = BrowserDirectory };
        foreach (var arg in new[]
        {
            "live-view.mjs", "--ui", new Uri(management, "/ui/").ToString(), "--out", output,
            "--hit", $"{publicOrigin}/metrics/g/collect?v=2&tid=G-TEST1234&cid=111.222&en=page_view&gcs=G111&gcd=13v3v3v3v5",
            "--hit", $"{publicOrigin}/metrics/g/collect?v=2&tid=G-TEST1234&cid=333.444&en=purchase&gcs=G111&gcd=13v3v3v3v5",
            "--header", "X-Forwarded-Proto: https", "--header", "X-Forwarded-Host: shop.example.co.uk",
            "--capi", $"{publicOrigin}/capi/v1/events", "--capi-key", CapiLiveViewTests.ApiKey,
            "--capi-body", "{\"events\":[" + CapiLiveViewTests.Event("purchase", Guid.NewGuid().ToString("N")) + "]}",
        })
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        Assert.True(process.ExitCode == 0, $"browser run failed: {await stderr}");
        using var json = JsonDocument.Parse(await stdout);
        var root = json.RootElement;

        // The hits appear, newest first, with their consent decision and the cookies their responses set (by name).
        var sent = root.GetProperty("sent").EnumerateArray().ToArray();
        Assert.All(sent, s => Assert.Equal(204, s.GetProperty("status").GetInt32()));
        var cookieNames = sent[1].GetProperty("setCookies").EnumerateArray().Select(c => c.GetString()!).ToArray();
        Assert.NotEmpty(cookieNames);
        var rows = root.GetProperty("rows").EnumerateArray().Where(r => r.GetProperty("route").GetString() == "ga4").Select(r => r.GetProperty("text").GetString()!).ToArray();
        Assert.Equal(2, rows.Length);
        Assert.Contains("purchase", rows[0], StringComparison.Ordinal);
        Assert.Contains("333.444", rows[0], StringComparison.Ordinal);
        Assert.Contains("page_view", rows[1], StringComparison.Ordinal);
        Assert.Contains("Google Analytics: send + ids", rows[0], StringComparison.Ordinal);
        Assert.Contains("analytics_storage granted (signal", rows[0], StringComparison.Ordinal);
        // A first visit: FPID is minted, the refresh marker written; each named with what the gateway did to it.
        Assert.Contains("FPID minted", rows[0], StringComparison.Ordinal);
        foreach (var name in cookieNames)
        {
            Assert.Matches($"{name} (minted|refreshed|copied|restored|written|expired)", rows[0]);
        }

        // The CAPI ingest: its row names the event, its destination and its fate.
        Assert.Equal(202, root.GetProperty("capiStatus").GetInt32());
        var capiRow = root.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("route").GetString() == "capi").GetProperty("text").GetString()!;
        Assert.Contains("purchase → meta: accepted", capiRow, StringComparison.Ordinal);

        // No location from the edge: strict defaults everywhere, and the page says how to fix it.
        var setup = root.GetProperty("setup").EnumerateArray().ToDictionary(l => l.GetProperty("id").GetString()!, l => l);
        Assert.Equal("amber", setup["geolocation"].GetProperty("level").GetString());
        Assert.Contains("Fix:", setup["geolocation"].GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal("green", setup["https"].GetProperty("level").GetString());
        Assert.Equal("green", setup["trusted-edge"].GetProperty("level").GetString());

        // Every counter the report shows is the Prometheus counter of the same series (gauges such as open connections
        // move with the observer: the browser holds its own connections open).
        var prometheus = LiveViewTests.ParsePrometheus(await gateway.Management.GetStringAsync("/metrics"));
        var report = root.GetProperty("report").EnumerateArray().Where(r => r.GetProperty("metric").GetString()!.EndsWith("_total", StringComparison.Ordinal)).ToArray();
        Assert.Contains(report, r => r.GetProperty("metric").GetString() == "taggateway_requests_total");
        foreach (var value in report)
        {
            var key = value.GetProperty("metric").GetString() + value.GetProperty("labels").GetString();
            Assert.True(prometheus.TryGetValue(key, out var expected), $"{key} is not in /metrics");
            Assert.True(expected == value.GetProperty("value").GetDouble(), $"{key}: the page shows {value.GetProperty("value").GetDouble()}, /metrics {expected}");
        }

        // Every number of the report's sections (CAPI per destination, identity keys, consent by region, cookies,
        // upstream) equals the sum of the /metrics series it names.
        var checks = root.GetProperty("checks").EnumerateArray().ToArray();
        Assert.Contains(checks, c => c.GetProperty("check").GetString() == "taggateway_capi_events_delivered_total|destination=meta" && c.GetProperty("value").GetDouble() == 1);
        Assert.Contains(checks, c => c.GetProperty("check").GetString()!.StartsWith("taggateway_consent_decisions_total|", StringComparison.Ordinal));
        Assert.Contains(checks, c => c.GetProperty("check").GetString()!.StartsWith("taggateway_capi_identity_keys_total|destination=meta,key=em", StringComparison.Ordinal) && c.GetProperty("value").GetDouble() == 1);
        foreach (var check in checks)
        {
            var parts = check.GetProperty("check").GetString()!.Split('|');
            var pairs = parts[1].Split(',').Select(p => p.Replace("=", "=\"", StringComparison.Ordinal) + "\"").ToArray();
            var expected = CapiLiveViewTests.Sum(prometheus, parts[0], pairs);
            Assert.True(expected == check.GetProperty("value").GetDouble(), $"{parts[0]} {parts[1]}: the page shows {check.GetProperty("value").GetDouble()}, /metrics {expected}");
        }

        var sections = root.GetProperty("sections").EnumerateArray().Select(s => s.GetString()!).ToArray();
        Assert.Contains(sections, s => s.StartsWith("Match quality by identity key: meta (estimated score", StringComparison.Ordinal));
        Assert.Contains("Consent outcomes by region", sections);
        Assert.Contains("Script cache", sections);
        Assert.True(root.GetProperty("printableSections").GetInt32() >= sections.Length, "the printable page holds the report");
        Assert.True(root.GetProperty("charts").GetInt32() > 0, "the report draws its charts");

        // A screenshot of each page, written to the test output and not blank.
        foreach (var name in new[] { "live", "setup", "report", "printable" })
        {
            var shot = root.GetProperty("shots").GetProperty(name);
            var path = shot.GetProperty("path").GetString()!;
            Assert.True(File.Exists(path), $"{path} was not written");
            Assert.True(new FileInfo(path).Length > 2000, $"{path} is suspiciously small");
            Assert.True(shot.GetProperty("colours").GetInt32() >= 8, $"{name} screenshot looks blank ({shot.GetProperty("colours").GetInt32()} colours)");
        }
    }
}
