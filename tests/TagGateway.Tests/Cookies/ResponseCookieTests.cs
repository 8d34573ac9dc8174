using System.Net;
using Microsoft.AspNetCore.Http;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Cookies;

/// <summary>Identifier cookies on the gateway's real responses: hits and script loads, behind a trusted edge.</summary>
public sealed class ResponseCookieTests
{
    private const string Jar = "session=s3cret; _ga=GA1.1.1162820436.1749482504; _fbp=fb.1.1642973591141.184636131";

    private static async Task<(FakeUpstream, GatewayInstance)> StartAsync(Func<HttpContext, RecordedRequest, Task>? upstreamHandler = null)
    {
        var upstream = await FakeUpstream.StartAsync(upstreamHandler);
        var settings = GatewayInstance.Settings(upstream.Origin);
        settings["Gateway:ClientIdentity:Edge"] = "Cloudflare";
        return (upstream, await GatewayInstance.StartAsync(settings));
    }

    private static HttpRequestMessage Request(string pathAndQuery, string country, string proto = "https")
    {
        var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        request.Headers.Host = "www.shop.example.com";
        request.Headers.TryAddWithoutValidation("Cookie", Jar);
        request.Headers.TryAddWithoutValidation("CF-Connecting-IP", "198.51.100.7");
        request.Headers.TryAddWithoutValidation("CF-IPCountry", country);
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", proto);
        return request;
    }

    private static string[] SetCookies(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToArray() : [];

    [Fact]
    public async Task Granted_hit_carries_Googles_cookies_then_the_gateways_on_the_registrable_domain()
    {
        var (upstream, gateway) = await StartAsync(static (context, _) =>
        {
            context.Response.Headers.Append("Set-Cookie", "FPLC=from-google; Path=/; Max-Age=72000; Secure");
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return Task.CompletedTask;
        });
        await using var _ = upstream;
        await using var __ = gateway;

        using var response = await gateway.Public.SendAsync(Request("/metrics/g/collect?v=2&tid=G-TEST1234&gcs=G111&gcd=13v3v3v3v5", "DE"));

        var cookies = SetCookies(response);
        Assert.Equal("FPLC=from-google; Path=/; Max-Age=72000; Secure", cookies[0]);
        Assert.Contains("_ga=GA1.1.1162820436.1749482504; Domain=example.com; Path=/; Max-Age=34560000; Secure; SameSite=Lax", cookies);
        Assert.Contains("_fbp=fb.1.1642973591141.184636131; Domain=example.com; Path=/; Max-Age=7776000; Secure; SameSite=Lax", cookies);
        Assert.Contains(cookies, c => c.StartsWith("FPID=FPID2.2.", StringComparison.Ordinal) && c.Contains("; HttpOnly", StringComparison.Ordinal));
        Assert.DoesNotContain(cookies, c => c.StartsWith("session=", StringComparison.Ordinal));

        // The visitor's non-Google cookies still never reached Google.
        Assert.Equal("_ga=GA1.1.1162820436.1749482504", upstream.Last.Header("Cookie"));
    }

    [Fact]
    public async Task Script_load_without_signals_in_a_strict_region_sets_nothing_and_stays_shareable()
    {
        var (upstream, gateway) = await StartAsync(static (context, _) =>
        {
            context.Response.Headers.CacheControl = "public, max-age=300";
            return context.Response.WriteAsync("/* tag */");
        });
        await using var _ = upstream;
        await using var __ = gateway;

        using var response = await gateway.Public.SendAsync(Request("/metrics/gtag/js?id=G-TEST1234", "FR"));

        Assert.Empty(SetCookies(response));
        Assert.True(response.Headers.CacheControl!.Public);
    }

    [Fact]
    public async Task Script_load_in_a_lenient_region_sets_nothing_either_and_stays_shareable()
    {
        var (upstream, gateway) = await StartAsync(static (context, _) =>
        {
            context.Response.Headers.CacheControl = "public, max-age=300";
            return context.Response.WriteAsync("/* tag */");
        });
        await using var _ = upstream;
        await using var __ = gateway;

        // A script load carries no consent signal: the hits that follow refresh, mint or expire, never the loader.
        using var response = await gateway.Public.SendAsync(Request("/metrics/gtag/js?id=G-TEST1234", "US", proto: "http"));

        Assert.Empty(SetCookies(response));
        var cacheControl = response.Headers.CacheControl!;
        Assert.True(cacheControl.Public);
        Assert.Equal(TimeSpan.FromSeconds(300), cacheControl.MaxAge);
    }

    [Fact]
    public async Task Debug_script_load_forwarded_live_sets_no_cookie_of_the_gateways()
    {
        var (upstream, gateway) = await StartAsync(static (context, _) => context.Response.WriteAsync("/* preview */"));
        await using var _ = upstream;
        await using var __ = gateway;

        using var response = await gateway.Public.SendAsync(Request("/metrics/gtm.js?id=GTM-TEST567&gtm_debug=x", "US", proto: "http"));

        Assert.Equal("/* preview */", await response.Content.ReadAsStringAsync());
        Assert.Empty(SetCookies(response));
    }

    [Fact]
    public async Task Denied_hit_expires_identifiers_and_writes_none()
    {
        var (upstream, gateway) = await StartAsync();
        await using var _ = upstream;
        await using var __ = gateway;

        using var response = await gateway.Public.SendAsync(Request("/metrics/g/collect?v=2&tid=G-TEST1234&gcs=G100&gcd=13q3q3q3q5", "US"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var cookies = SetCookies(response);
        Assert.Equal(["_ga=; Domain=example.com; Path=/; Max-Age=0; SameSite=Lax", "_fbp=; Domain=example.com; Path=/; Max-Age=0; SameSite=Lax"], cookies);
    }

    [Fact]
    public async Task Refresh_marker_keeps_the_steady_state_hit_free_of_Set_Cookie()
    {
        var (upstream, gateway) = await StartAsync();
        await using var _ = upstream;
        await using var __ = gateway;
        const string path = "/metrics/g/collect?v=2&tid=G-TEST1234&gcs=G111&gcd=13v3v3v3v5";

        using var first = await gateway.Public.SendAsync(Request(path, "US"));
        var jar = string.Join("; ", SetCookies(first).Select(c => c[..c.IndexOf(';', StringComparison.Ordinal)]));

        using var steady = Request(path, "US");
        steady.Headers.Remove("Cookie");
        steady.Headers.TryAddWithoutValidation("Cookie", jar);
        using var second = await gateway.Public.SendAsync(steady);

        Assert.NotEmpty(SetCookies(first));
        Assert.Empty(SetCookies(second));
    }
}
