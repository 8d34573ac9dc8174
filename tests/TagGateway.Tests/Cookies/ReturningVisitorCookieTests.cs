using Microsoft.AspNetCore.Http;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Cookies;

/// <summary>
/// Issue #12, rows 4 and 5 and item 3: a returning visitor keeps every identifier across default-denied first pings,
/// "not set" signals and a missing geolocation; identifiers go only when the visitor says no, and nothing is minted
/// on a script load. Each request goes through the real host; the visitor's jar follows the Set-Cookie headers.
/// </summary>
public sealed class ReturningVisitorCookieTests
{
    private const string Collect = "/metrics/g/collect?v=2&tid=G-TEST1234&cid=1162820436.1749482504&en=page_view";

    // What a returning visitor brings: Google's and Meta's script cookies, FPID and the gateway's HttpOnly copies.
    private static readonly string[] Identifiers =
    [
        "_ga=GA1.1.1162820436.1749482504",
        "_ga_ABC123XYZ9=GS2.1.s1747132561$o1$g0$t1747132655$j0$l0$h0",
        "_gcl_au=1.1.1406894807.1642973586",
        "_fbp=fb.1.1642973591141.184636131",
        "FPID=FPID2.2.Y2BqZ0nUZQhDOeJH%2BnxaRfFgshyhI5IEOVN6Ym7aXRU%3D.1732867200",
        "tg_ga=GA1.1.1162820436.1749482504",
        "tg_fbp=fb.1.1642973591141.184636131",
    ];

    private static readonly string[] IdentifierNames = [.. Identifiers.Select(static c => c[..c.IndexOf('=', StringComparison.Ordinal)])];

    /// <summary>Google stand-in: a tag script for loader paths, 204 for every hit.</summary>
    private static Task ServeGoogle(HttpContext context, RecordedRequest request)
    {
        if (context.Request.Path.StartsWithSegments("/metrics/gtag/js", StringComparison.Ordinal))
        {
            context.Response.ContentType = "application/javascript";
            context.Response.Headers.CacheControl = "public, max-age=300";
            return context.Response.WriteAsync("/* tag */");
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
        return Task.CompletedTask;
    }

    private static async Task<(FakeUpstream, GatewayInstance)> StartAsync(string edge)
    {
        var upstream = await FakeUpstream.StartAsync(ServeGoogle);
        var settings = GatewayInstance.Settings(upstream.Origin);
        settings["Gateway:ClientIdentity:Edge"] = edge;
        return (upstream, await GatewayInstance.StartAsync(settings));
    }

    /// <summary>A visitor: the browser's cookie jar, updated from every response as a browser would.</summary>
    private sealed class Visitor(GatewayInstance gateway, Action<HttpRequestMessage> edgeHeaders)
    {
        public Dictionary<string, string> Jar { get; } = new(StringComparer.Ordinal);

        public List<string> SetCookies { get; } = [];

        public async Task<string[]> GetAsync(string pathAndQuery, HttpMethod? method = null, string? body = null)
        {
            using var request = new HttpRequestMessage(method ?? HttpMethod.Get, pathAndQuery);
            request.Headers.Host = "www.shop.example.com";
            if (Jar.Count > 0)
            {
                request.Headers.TryAddWithoutValidation("Cookie", string.Join("; ", Jar.Select(static p => $"{p.Key}={p.Value}")));
            }

            if (body is not null)
            {
                request.Content = new StringContent(body);
            }

            edgeHeaders(request);
            using var response = await gateway.Public.SendAsync(request);
            Assert.True(response.IsSuccessStatusCode, $"{pathAndQuery}: {(int)response.StatusCode}");
            var written = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToArray() : [];
            foreach (var header in written)
            {
                var pair = header[..header.IndexOf(';', StringComparison.Ordinal)];
                var name = pair[..pair.IndexOf('=', StringComparison.Ordinal)];
                if (header.Contains("; Max-Age=0", StringComparison.Ordinal))
                {
                    Jar.Remove(name);
                }
                else
                {
                    Jar[name] = pair[(name.Length + 1)..];
                }
            }

            SetCookies.AddRange(written);
            return written;
        }
    }

    private static Action<HttpRequestMessage> Cloudflare(string country, string? region = null) => request =>
    {
        request.Headers.TryAddWithoutValidation("CF-Connecting-IP", "198.51.100.7");
        request.Headers.TryAddWithoutValidation("CF-IPCountry", country);
        if (region is not null)
        {
            request.Headers.TryAddWithoutValidation("CF-Region-Code", region);
        }
    };

    private static Visitor Returning(GatewayInstance gateway, Action<HttpRequestMessage> edge)
    {
        var visitor = new Visitor(gateway, edge);
        foreach (var cookie in Identifiers)
        {
            var eq = cookie.IndexOf('=', StringComparison.Ordinal);
            visitor.Jar[cookie[..eq]] = cookie[(eq + 1)..];
        }

        return visitor;
    }

    private static void AssertKeptUntouched(Visitor visitor)
    {
        Assert.DoesNotContain(visitor.SetCookies, static c => c.Contains("Max-Age=0", StringComparison.Ordinal));
        foreach (var cookie in Identifiers)
        {
            var eq = cookie.IndexOf('=', StringComparison.Ordinal);
            Assert.Equal(cookie[(eq + 1)..], visitor.Jar.GetValueOrDefault(cookie[..eq]));
        }
    }

    [Fact]
    public async Task Returning_EU_visitor_keeps_every_identifier_through_the_default_denied_first_ping()
    {
        var (upstream, gateway) = await StartAsync("Cloudflare");
        await using var _ = upstream;
        await using var __ = gateway;
        var visitor = Returning(gateway, Cloudflare("DE"));

        // The page loads its tag, then pings before the consent platform has read the stored choice.
        await visitor.GetAsync("/metrics/gtag/js?id=G-TEST1234");
        var firstPing = await visitor.GetAsync($"{Collect}&gcs=G100&gcd=13p3p3p3p5");
        var batched = await visitor.GetAsync($"{Collect}&gcs=G100&gcd=13p3p3p3p5l1", HttpMethod.Post, "en=page_view\r\nen=scroll\r\n");

        // Denied by default is not a refusal: nothing is refreshed, and nothing is expired.
        Assert.Empty(firstPing);
        Assert.Empty(batched);
        AssertKeptUntouched(visitor);
        Assert.Equal(3, upstream.Count);

        // The consent platform then sends the stored choice: granted by update, so everything is refreshed as it was.
        var granted = await visitor.GetAsync($"{Collect}&gcs=G111&gcd=13r3r3r3r5");
        Assert.Contains("_ga=GA1.1.1162820436.1749482504; Domain=example.com; Path=/; Max-Age=34560000; SameSite=Lax", granted);
        Assert.DoesNotContain(granted, static c => c.Contains("Max-Age=0", StringComparison.Ordinal));
        AssertKeptUntouched(visitor);
    }

    [Theory]
    [InlineData("gcs=G100&gcd=13q3q3q3q5")] // denied by default, then denied by update
    [InlineData("gcs=G100&gcd=13m3m3m3m5")] // not set by default, denied by update
    [InlineData("gcs=G100&gcd=13u3u3u3u5")] // granted by default, denied by update
    public async Task Returning_EU_visitor_who_then_refuses_loses_every_identifier(string refusal)
    {
        var (upstream, gateway) = await StartAsync("Cloudflare");
        await using var _ = upstream;
        await using var __ = gateway;
        var visitor = Returning(gateway, Cloudflare("DE"));

        Assert.Empty(await visitor.GetAsync($"{Collect}&gcs=G100&gcd=13p3p3p3p5"));
        var refused = await visitor.GetAsync($"{Collect}&{refusal}");

        foreach (var name in IdentifierNames)
        {
            Assert.Contains($"{name}=; Domain=example.com; Path=/; Max-Age=0; SameSite=Lax", refused);
        }

        Assert.DoesNotContain(refused, static c => !c.Contains("Max-Age=0", StringComparison.Ordinal));
        Assert.Empty(visitor.Jar);
    }

    public static TheoryData<string> NoGeolocationEdges => new() { "Direct", "ReverseProxy" };

    [Theory]
    [MemberData(nameof(NoGeolocationEdges))]
    public async Task Without_geolocation_not_set_signals_never_expire_an_identifier_across_hits(string edge)
    {
        var (upstream, gateway) = await StartAsync(edge);
        await using var _ = upstream;
        await using var __ = gateway;

        // Direct: no edge headers are believed. ReverseProxy: the edge forwards the client but no location (an empty geo map).
        var visitor = Returning(gateway, request => request.Headers.TryAddWithoutValidation("X-Forwarded-For", "198.51.100.7"));

        await visitor.GetAsync("/metrics/gtag/js?id=G-TEST1234");
        for (var i = 0; i < 3; i++)
        {
            await visitor.GetAsync($"{Collect}&_s={i + 1}&gcd=13l3l3l3l1");
        }

        await visitor.GetAsync($"{Collect}&gcs=G1--&gcd=13l3l3R3l5l1");
        await visitor.GetAsync($"{Collect}&gcd=13l3l3l3l1", HttpMethod.Post, "en=page_view\r\nen=user_engagement\r\n");
        await visitor.GetAsync(Collect);

        // No region means the strict default: nothing minted or refreshed, and nothing expired either.
        Assert.Empty(visitor.SetCookies);
        AssertKeptUntouched(visitor);
        Assert.Equal(7, upstream.Count);
    }

    [Fact]
    public async Task A_script_load_mints_nothing_so_a_default_denied_page_never_sees_an_identifier_come_and_go()
    {
        var (upstream, gateway) = await StartAsync("Cloudflare");
        await using var _ = upstream;
        await using var __ = gateway;

        // A first-time visitor in a lenient region, on a page whose consent mode denies by default.
        var visitor = new Visitor(gateway, Cloudflare("US", "CA"));
        var scriptLoad = await visitor.GetAsync("/metrics/gtag/js?id=G-TEST1234");
        var firstPing = await visitor.GetAsync($"{Collect}&gcs=G100&gcd=13p3p3p3p5");

        Assert.Empty(scriptLoad);
        Assert.Empty(firstPing);
        Assert.DoesNotContain(visitor.SetCookies, static c => c.StartsWith("FPID=", StringComparison.Ordinal));

        // The visitor accepts: the hit that says so mints FPID.
        var accepted = await visitor.GetAsync($"{Collect}&gcs=G111&gcd=13r3r3r3r5");
        Assert.Contains(accepted, static c => c.StartsWith("FPID=FPID2.2.", StringComparison.Ordinal) && !c.Contains("Max-Age=0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_returning_visitors_script_load_in_a_lenient_region_writes_nothing_and_the_hit_refreshes()
    {
        var (upstream, gateway) = await StartAsync("Cloudflare");
        await using var _ = upstream;
        await using var __ = gateway;
        var visitor = Returning(gateway, Cloudflare("US"));

        Assert.Empty(await visitor.GetAsync("/metrics/gtag/js?id=G-TEST1234"));

        // A page without consent mode: the region default allows, so the hit refreshes.
        var hit = await visitor.GetAsync(Collect);
        Assert.Contains(hit, static c => c.StartsWith("_ga=GA1.1.1162820436.1749482504; Domain=example.com;", StringComparison.Ordinal));
        AssertKeptUntouched(visitor);
    }
}
