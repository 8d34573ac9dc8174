using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Cookies;

/// <summary>
/// Debian's Chromium, driven by playwright-core, loads a page from the gateway's host that runs a tag served
/// through the gateway; the browser's own cookie jar is then read. Skipped where Chromium or the node packages
/// are not installed, unless TAGGATEWAY_REQUIRE_BROWSER=1 (CI), where their absence fails the test.
/// </summary>
public sealed class BrowserCookieTests
{
    private const string SiteHost = "shop.example.co.uk";
    private const string Granted = "gcs=G111&gcd=13v3v3v3v5";
    private const string Denied = "gcs=G100&gcd=13q3q3q3q5";

    private static readonly string BrowserDirectory = BrowserRequirement.Directory;

    /// <summary>A stand-in for Google that serves the page, a tag that writes its cookies by script as gtag does, and collect.</summary>
    private static Task ServeSite(HttpContext context, RecordedRequest request)
    {
        var path = context.Request.Path.Value;
        if (path == "/metrics/page.html")
        {
            // The tag's behaviour rides on a parameter the script cache keys on (the data layer's name); any other
            // parameter is dropped from the key and from the fetch.
            var layer = context.Request.Query["consent"] == "denied" ? "deniedLayer" : "dataLayer";
            context.Response.ContentType = "text/html";
            return context.Response.WriteAsync($"<!doctype html><title>shop</title><script src=\"/metrics/gtag/js?id=G-TEST1234&l={layer}\"></script>");
        }

        if (path == "/metrics/gtag/js")
        {
            var granted = context.Request.Query["l"] != "deniedLayer";
            context.Response.ContentType = "application/javascript";
            context.Response.Headers.CacheControl = "public, max-age=60";
            return context.Response.WriteAsync($$"""
                (function () {
                  var granted = {{(granted ? "true" : "false")}};
                  if (granted && !/(^|; )_ga=/.test(document.cookie)) {
                    // What Safari leaves a script-written cookie: seven days.
                    document.cookie = '_ga=GA1.1.1162820436.1749482504; domain=example.co.uk; path=/; max-age=604800';
                    document.cookie = '_fbp=fb.1.1642973591141.184636131; domain=example.co.uk; path=/; max-age=604800';
                  }
                  var q = 'v=2&tid=G-TEST1234&cid=1162820436.1749482504&en=page_view&' + (granted ? '{{Granted}}' : '{{Denied}}') + '&dl=' + encodeURIComponent(location.href);
                  fetch('/metrics/g/collect?' + q, { method: 'POST', body: 'en=page_view', keepalive: true })
                    .then(function () { window.tagDone = true; }, function () { window.tagDone = true; });
                })();
                """);
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    private static async Task<(double Now, JsonElement[] Cookies)> VisitAsync(GatewayInstance gateway, string pathAndQuery, params string[] seedCookies)
    {
        var url = $"http://{SiteHost}:{gateway.PublicEndPoint.Port}{pathAndQuery}";
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = BrowserDirectory };
        foreach (var arg in new[] { "cookie-jar.mjs", "--url", url, "--map", $"{SiteHost}=127.0.0.1" })
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var cookie in seedCookies)
        {
            start.ArgumentList.Add("--cookie");
            start.ArgumentList.Add(cookie);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(process.ExitCode == 0, $"browser run failed: {await stderr}");
        using var json = JsonDocument.Parse(await stdout);
        var root = json.RootElement.Clone();
        return (root.GetProperty("now").GetDouble(), root.GetProperty("cookies").EnumerateArray().ToArray());
    }

    private static JsonElement Cookie(JsonElement[] jar, string name) =>
        jar.SingleOrDefault(c => c.GetProperty("name").GetString() == name) is { ValueKind: JsonValueKind.Object } cookie
            ? cookie
            : throw new Xunit.Sdk.XunitException($"no {name} cookie in the jar: {string.Join(", ", jar.Select(c => c.GetProperty("name").GetString()))}");

    private static double DaysLeft(JsonElement cookie, double now) => (cookie.GetProperty("expires").GetDouble() - now) / 86400;

    private static async Task<(FakeUpstream Upstream, GatewayInstance Gateway)> StartAsync()
    {
        var upstream = await FakeUpstream.StartAsync(ServeSite);
        var settings = GatewayInstance.Settings(upstream.Origin);

        // Consent is explicit on these hits; the lenient region keeps script loads from mattering either way.
        settings["Gateway:ClientIdentity:Edge"] = "ReverseProxy";
        return (upstream, await GatewayInstance.StartAsync(settings));
    }

    [SkippableFact]
    public async Task Granted_visit_leaves_server_set_identifiers_with_long_lifetimes_in_the_browser()
    {
        BrowserRequirement.Require();
        var (upstream, gateway) = await StartAsync();
        await using var _ = upstream;
        await using var __ = gateway;

        var (now, jar) = await VisitAsync(gateway, "/metrics/page.html");

        // The script wrote _ga and _fbp for seven days; the hit's response re-issued them from the site's origin.
        var ga = Cookie(jar, "_ga");
        Assert.Equal("GA1.1.1162820436.1749482504", ga.GetProperty("value").GetString());
        Assert.Equal(".example.co.uk", ga.GetProperty("domain").GetString());
        Assert.InRange(DaysLeft(ga, now), 399, 400.1);
        Assert.False(ga.GetProperty("httpOnly").GetBoolean());
        Assert.InRange(DaysLeft(Cookie(jar, "_fbp"), now), 89, 90.1);

        // Server-managed: HttpOnly, out of script's reach (and of Safari's script-storage wipe).
        foreach (var name in new[] { "FPID", "tg_ga", "tg_fbp", "tg_ts" })
        {
            var cookie = Cookie(jar, name);
            Assert.True(cookie.GetProperty("httpOnly").GetBoolean(), $"{name} must be HttpOnly");
            Assert.Equal(".example.co.uk", cookie.GetProperty("domain").GetString());
        }

        Assert.InRange(DaysLeft(Cookie(jar, "FPID"), now), 399, 400.1);
        Assert.Equal("GA1.1.1162820436.1749482504", Cookie(jar, "tg_ga").GetProperty("value").GetString());
    }

    [SkippableFact]
    public async Task Denied_visit_leaves_no_identifier_cookie()
    {
        BrowserRequirement.Require();
        var (upstream, gateway) = await StartAsync();
        await using var _ = upstream;
        await using var __ = gateway;

        var (_, jar) = await VisitAsync(gateway, "/metrics/page.html?consent=denied");

        Assert.True(upstream.Requests.Any(r => r.PathAndQuery.StartsWith("/metrics/g/collect", StringComparison.Ordinal)), "the cookieless hit still reached Google");
        Assert.Empty(jar);
    }

    [SkippableFact]
    public async Task Identifier_wiped_from_script_storage_is_restored_from_the_server_copy()
    {
        BrowserRequirement.Require();
        var (upstream, gateway) = await StartAsync();
        await using var _ = upstream;
        await using var __ = gateway;

        // Safari deleted _ga after seven days; the HttpOnly copy survived.
        var (_, jar) = await VisitAsync(gateway, "/metrics/page.html", "tg_ga=GA1.1.555.1700000000");

        Assert.Equal("GA1.1.555.1700000000", Cookie(jar, "_ga").GetProperty("value").GetString());
    }
}
