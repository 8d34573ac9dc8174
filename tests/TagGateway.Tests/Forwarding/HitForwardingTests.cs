using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Forwarding;

/// <summary>Measurement hits through the real gateway to a real loopback upstream.</summary>
public abstract class HitForwardingTests
{
    /// <summary>The client under test: the whole suite runs over each (the derived classes below).</summary>
    protected abstract string Client { get; }

    private Dictionary<string, string?> Settings(Uri upstream)
    {
        var settings = GatewayInstance.Settings(upstream);
        settings["Gateway:Forwarding:Client"] = Client;
        return settings;
    }

    private const string BatchedBody = "en=page_view&_et=12\r\nen=scroll&epn.percent_scrolled=90\r\nen=purchase&ep.transaction_id=T1&epn.value=19.99";

    [Fact]
    public async Task Hit_is_forwarded_with_query_and_body_intact_and_GTG_headers()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(Settings(upstream.Origin));

        using var request = new HttpRequestMessage(HttpMethod.Post, "/metrics/g/collect?v=2&tid=G-TEST1234&cid=123.456&gcs=G111&dl=https%3A%2F%2Fshop.example%2F%3Fa%3D1")
        {
            Content = new StringContent(BatchedBody, Encoding.UTF8, "text/plain"),
        };
        request.Headers.TryAddWithoutValidation("User-Agent", "Mozilla/5.0 (Macintosh) Safari/605.1.15");
        request.Headers.TryAddWithoutValidation("Sec-CH-UA", "\"Chromium\";v=\"140\"");
        request.Headers.TryAddWithoutValidation("Sec-CH-UA-Platform", "\"macOS\"");
        request.Headers.TryAddWithoutValidation("Accept-Language", "de-DE");
        using var response = await gateway.Public.SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var seen = Assert.Single(upstream.Requests);
        Assert.Equal("POST", seen.Method);
        Assert.Equal("/metrics/g/collect?v=2&tid=G-TEST1234&cid=123.456&gcs=G111&dl=https%3A%2F%2Fshop.example%2F%3Fa%3D1", seen.PathAndQuery);
        Assert.Equal(BatchedBody, Encoding.UTF8.GetString(seen.Body));
        Assert.Equal("g-test1234.fps.goog", seen.Host);
        Assert.Equal("127.0.0.1", seen.Header("X-Forwarded-For"));
        Assert.Equal("Mozilla/5.0 (Macintosh) Safari/605.1.15", seen.Header("User-Agent"));
        Assert.Equal("\"Chromium\";v=\"140\"", seen.Header("Sec-CH-UA"));
        Assert.Equal("\"macOS\"", seen.Header("Sec-CH-UA-Platform"));
        Assert.Equal("de-DE", seen.Header("Accept-Language"));
        Assert.StartsWith("text/plain", seen.Header("Content-Type"));
    }

    [Fact]
    public async Task Only_Google_cookies_credentials_free_and_no_hop_by_hop_headers_reach_the_upstream()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(Settings(upstream.Origin));

        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics/g/collect?v=2&tid=G-TEST1234");
        request.Headers.TryAddWithoutValidation("Cookie", "session=s3cret; _ga=GA1.1.111.222; _fbp=fb.1.1.2; _ga_ABC123=GS2.1.s1$o1; _gcl_au=1.1.1.1; FPID=FPID2.2.x; FPx=no; wp_login=admin; _gid=GA1.1.9.9");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer site-token");
        request.Headers.TryAddWithoutValidation("X-Api-Key", "k");
        request.Headers.TryAddWithoutValidation("Proxy-Authorization", "Basic eA==");
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", "203.0.113.9");
        request.Headers.TryAddWithoutValidation("X-Forwarded-CountryRegion", "FR-IDF");
        request.Headers.TryAddWithoutValidation("CF-Connecting-IP", "203.0.113.10");
        request.Headers.TryAddWithoutValidation("Forwarded", "for=203.0.113.11");
        request.Headers.TryAddWithoutValidation("X-TagGateway-Secret", "guess");
        request.Headers.TryAddWithoutValidation("Upgrade", "websocket");
        request.Headers.TryAddWithoutValidation("Keep-Alive", "timeout=5");
        using var response = await gateway.Public.SendAsync(request);

        var seen = Assert.Single(upstream.Requests);
        Assert.Equal("_ga=GA1.1.111.222; _ga_ABC123=GS2.1.s1$o1; _gcl_au=1.1.1.1; FPID=FPID2.2.x; _gid=GA1.1.9.9", seen.Header("Cookie"));
        foreach (var name in new[] { "Authorization", "X-Api-Key", "Proxy-Authorization", "CF-Connecting-IP", "Forwarded", "X-TagGateway-Secret", "Upgrade", "Keep-Alive", "X-Forwarded-CountryRegion" })
        {
            Assert.Null(seen.Header(name));
        }

        // The visitor's own X-Forwarded-For is not believed from an edge nobody configured.
        Assert.Equal("127.0.0.1", seen.Header("X-Forwarded-For"));
    }

    [Fact]
    public async Task Cookie_header_is_dropped_when_no_Google_cookie_is_present()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(Settings(upstream.Origin));

        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics/g/collect?v=2&tid=G-TEST1234");
        request.Headers.TryAddWithoutValidation("Cookie", "session=s3cret; _fbp=fb.1.1.2");
        using var response = await gateway.Public.SendAsync(request);

        Assert.Null(Assert.Single(upstream.Requests).Header("Cookie"));
    }

    [Fact]
    public async Task Status_body_and_every_Set_Cookie_come_back_unchanged()
    {
        await using var upstream = await FakeUpstream.StartAsync(static async (context, _) =>
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.Headers.Append("Set-Cookie", "FPID=FPID2.2.abc; Path=/; Max-Age=34560000; HttpOnly; Secure");
            context.Response.Headers.Append("Set-Cookie", "FPLC=xyz; Path=/; Max-Age=72000; Secure");
            context.Response.Headers.Append("Set-Cookie", "FPGCLAW=2.1.kCj0; Path=/; Max-Age=7776000; HttpOnly");
            context.Response.Headers["X-Upstream"] = "fps";
            context.Response.ContentType = "image/gif";
            await context.Response.Body.WriteAsync("GIF89a"u8.ToArray());
        });
        await using var gateway = await GatewayInstance.StartAsync(Settings(upstream.Origin));

        using var response = await gateway.Public.GetAsync("/metrics/g/collect?v=2&tid=G-TEST1234");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var cookies = response.Headers.GetValues("Set-Cookie").ToArray();
        Assert.Equal(3, cookies.Length);
        Assert.Equal("FPID=FPID2.2.abc; Path=/; Max-Age=34560000; HttpOnly; Secure", cookies[0]);
        Assert.Equal("FPGCLAW=2.1.kCj0; Path=/; Max-Age=7776000; HttpOnly", cookies[2]);
        Assert.Equal("fps", response.Headers.GetValues("X-Upstream").Single());
        Assert.Equal("image/gif", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("GIF89a", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Redirects_are_passed_to_the_browser_not_followed()
    {
        await using var upstream = await FakeUpstream.StartAsync(static (context, _) =>
        {
            context.Response.StatusCode = StatusCodes.Status302Found;
            context.Response.Headers.Location = "https://www.google.com/pagead/landing?x=1";
            return Task.CompletedTask;
        });
        await using var gateway = await GatewayInstance.StartAsync(Settings(upstream.Origin));

        using var response = await gateway.Public.GetAsync("/metrics/pagead/viewthroughconversion/123/?random=1");

        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal("https://www.google.com/pagead/landing?x=1", response.Headers.Location!.ToString());
        Assert.Equal(1, upstream.Count);
    }

    [Fact]
    public async Task Upstream_that_is_down_gets_a_clean_502()
    {
        await using var gateway = await GatewayInstance.StartAsync(Settings(FakeUpstream.ClosedOrigin()));

        using var response = await gateway.Public.PostAsync("/metrics/g/collect?v=2&tid=G-TEST1234", new StringContent("en=x"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
    }

    [Fact]
    public async Task Upstream_that_is_slow_gets_a_504_within_the_response_timeout()
    {
        await using var upstream = await FakeUpstream.StartAsync(static async (context, _) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(30), context.RequestAborted);
        });
        var settings = Settings(upstream.Origin);
        settings["Gateway:Forwarding:ResponseTimeout"] = "00:00:00.500";
        await using var gateway = await GatewayInstance.StartAsync(settings);

        var started = System.Diagnostics.Stopwatch.StartNew();
        using var response = await gateway.Public.PostAsync("/metrics/g/collect?v=2&tid=G-TEST1234", new StringContent("en=x"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), "the gateway must not hang on a slow upstream");
    }

    [Fact]
    public async Task Direct_mode_sends_collect_to_analytics_and_ads_pings_to_the_ads_host()
    {
        await using var analytics = await FakeUpstream.StartAsync();
        await using var ads = await FakeUpstream.StartAsync();
        var settings = Settings(analytics.Origin);
        settings["Gateway:Mode"] = "Direct";
        settings["Gateway:Upstreams:Ads"] = ads.Origin.GetLeftPart(UriPartial.Authority);
        settings["Gateway:TagIds:2"] = "AW-123456789";
        await using var gateway = await GatewayInstance.StartAsync(settings);

        using var hit = await gateway.Public.PostAsync("/metrics/g/collect?v=2&tid=G-TEST1234", new StringContent("en=x"));
        using var ping = await gateway.Public.GetAsync("/metrics/ccm/collect?tid=AW-123456789&en=page_view");
        using var unknown = await gateway.Public.GetAsync("/metrics/anything/else");

        Assert.Equal("/g/collect?v=2&tid=G-TEST1234", Assert.Single(analytics.Requests).PathAndQuery);
        Assert.DoesNotContain("fps.goog", analytics.Last.Host, StringComparison.Ordinal);
        Assert.Equal("/ccm/collect?tid=AW-123456789&en=page_view", Assert.Single(ads.Requests).PathAndQuery);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Hiding_the_client_ip_sends_no_X_Forwarded_For()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = Settings(upstream.Origin);
        settings["Gateway:ClientIdentity:ForwardClientIp"] = "false";
        await using var gateway = await GatewayInstance.StartAsync(settings);

        using var response = await gateway.Public.GetAsync("/metrics/g/collect?v=2&tid=G-TEST1234");

        Assert.Null(Assert.Single(upstream.Requests).Header("X-Forwarded-For"));
    }

    [Fact]
    public async Task GTG_health_check_is_answered_ok_by_the_gateway()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(Settings(upstream.Origin));

        using var response = await gateway.Public.GetAsync("/metrics/healthy");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("ok", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, upstream.Count);
    }
}

public sealed class HitForwardingTestsOverHttp : HitForwardingTests
{
    protected override string Client => "Http";
}

public sealed class HitForwardingTestsOverPipelines : HitForwardingTests
{
    protected override string Client => "Pipelines";
}
