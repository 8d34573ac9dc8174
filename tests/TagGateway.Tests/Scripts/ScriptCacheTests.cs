using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Scripts;

/// <summary>Scripts through the real gateway against a real loopback upstream, in TagGateway mode.</summary>
public sealed class ScriptCacheTests
{
    private static Func<HttpContext, RecordedRequest, Task> ServeScript(string body, string cacheControl = "public, max-age=900", TimeSpan? delay = null, string? etag = null) =>
        async (context, request) =>
        {
            if (delay is { } d)
            {
                await Task.Delay(d, context.RequestAborted);
            }

            if (etag is not null && request.Header("If-None-Match") == etag)
            {
                context.Response.StatusCode = StatusCodes.Status304NotModified;
                context.Response.Headers.CacheControl = cacheControl;
                return;
            }

            context.Response.ContentType = "application/javascript; charset=utf-8";
            context.Response.Headers.CacheControl = cacheControl;
            if (etag is not null)
            {
                context.Response.Headers.ETag = etag;
            }

            await context.Response.WriteAsync(body);
        };

    private static HttpRequestMessage Get(string path, string? acceptEncoding = "br, gzip")
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (acceptEncoding is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept-Encoding", acceptEncoding);
        }

        return request;
    }

    [Fact]
    public async Task Script_is_fetched_with_the_prefix_kept_and_the_fps_goog_host()
    {
        var body = Bodies.Script("gtag");
        await using var upstream = await FakeUpstream.StartAsync(ServeScript(body));
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin));

        using var response = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234&l=dataLayer"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body, await Bodies.ReadDecodedAsync(response));
        var seen = Assert.Single(upstream.Requests);
        Assert.Equal("/metrics/gtag/js?id=G-TEST1234&l=dataLayer", seen.PathAndQuery);
        Assert.Equal("g-test1234.fps.goog", seen.Host);
        Assert.Null(seen.Header("Cookie"));
        Assert.Null(seen.Header("X-Forwarded-For"));
    }

    private static Dictionary<string, string?> SettingsFor(string mode, Uri upstream)
    {
        var settings = GatewayInstance.Settings(upstream);
        settings["Gateway:Mode"] = mode;
        return settings;
    }

    [Theory]
    [InlineData("TagGateway", "/metrics/gtm.js?id=GTM-TEST567")]
    [InlineData("Direct", "/gtm.js?id=GTM-TEST567")]
    public async Task Second_request_is_served_from_memory(string mode, string upstreamPath)
    {
        await using var upstream = await FakeUpstream.StartAsync(ServeScript(Bodies.Script("cached")));
        await using var gateway = await GatewayInstance.StartAsync(SettingsFor(mode, upstream.Origin));

        using var first = await gateway.Public.SendAsync(Get("/metrics/gtm.js?id=GTM-TEST567"));
        using var second = await gateway.Public.SendAsync(Get("/metrics/gtm.js?id=GTM-TEST567"));

        Assert.Equal("miss", first.Headers.GetValues("X-TagGateway-Cache").Single());
        Assert.Equal("hit", second.Headers.GetValues("X-TagGateway-Cache").Single());
        Assert.Equal(upstreamPath, Assert.Single(upstream.Requests).PathAndQuery);
        Assert.Equal(await Bodies.ReadDecodedAsync(first), await Bodies.ReadDecodedAsync(second));
    }

    [Theory]
    [InlineData("br, gzip, deflate", "br")]
    [InlineData("gzip", "gzip")]
    [InlineData("gzip;q=1, br;q=0", "gzip")]
    [InlineData(null, null)]
    public async Task Body_is_served_in_the_encoding_the_browser_accepts(string? acceptEncoding, string? expected)
    {
        var body = Bodies.Script("encodings");
        await using var upstream = await FakeUpstream.StartAsync(ServeScript(body));
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin));

        using var response = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234", acceptEncoding));

        Assert.Equal(expected, response.Content.Headers.ContentEncoding.SingleOrDefault());
        Assert.Contains("Accept-Encoding", response.Headers.Vary);
        Assert.Equal(body, await Bodies.ReadDecodedAsync(response));
        if (expected is not null)
        {
            Assert.True(response.Content.Headers.ContentLength < body.Length / 3, "compressed body should be much smaller");
        }
        else
        {
            Assert.Equal(body.Length, response.Content.Headers.ContentLength);
        }
    }

    [Theory]
    [InlineData("TagGateway")]
    [InlineData("Direct")]
    public async Task Matching_ETag_gets_304_without_a_body(string mode)
    {
        await using var upstream = await FakeUpstream.StartAsync(ServeScript(Bodies.Script("etag")));
        await using var gateway = await GatewayInstance.StartAsync(SettingsFor(mode, upstream.Origin));

        using var first = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234"));
        var etag = first.Headers.ETag!;
        Assert.False(etag.IsWeak);

        using var conditional = Get("/metrics/gtag/js?id=G-TEST1234");
        conditional.Headers.IfNoneMatch.Add(etag);
        using var second = await gateway.Public.SendAsync(conditional);

        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        Assert.Empty(await second.Content.ReadAsByteArrayAsync());
        Assert.Equal(etag, second.Headers.ETag);

        using var other = Get("/metrics/gtag/js?id=G-TEST1234");
        other.Headers.TryAddWithoutValidation("If-None-Match", "\"something-else\"");
        using var third = await gateway.Public.SendAsync(other);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
        Assert.Equal(1, upstream.Count);
    }

    [Fact]
    public async Task First_visitor_gets_a_fast_compression_and_later_ones_the_best_with_validators_that_still_match()
    {
        var body = Bodies.Script("two-pass");
        await using var upstream = await FakeUpstream.StartAsync(ServeScript(body));
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin));

        using var first = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234", "br"));
        Assert.EndsWith(".br4\"", first.Headers.ETag!.Tag, StringComparison.Ordinal);
        var fastLength = first.Content.Headers.ContentLength;

        HttpResponseMessage? best = null;
        for (var i = 0; i < 200 && best is null; i++)
        {
            var next = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234", "br"));
            if (next.Headers.ETag!.Tag.EndsWith(".br\"", StringComparison.Ordinal))
            {
                best = next;
            }
            else
            {
                next.Dispose();
                await Task.Delay(25);
            }
        }

        Assert.NotNull(best);
        Assert.Equal(body, await Bodies.ReadDecodedAsync(best));
        Assert.True(best.Content.Headers.ContentLength <= fastLength, $"best {best.Content.Headers.ContentLength} > fast {fastLength}");
        best.Dispose();

        // A browser holding the fast copy revalidates to 304: the content is the same.
        using var conditional = Get("/metrics/gtag/js?id=G-TEST1234", "br");
        conditional.Headers.IfNoneMatch.Add(first.Headers.ETag);
        using var revalidated = await gateway.Public.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
        Assert.Equal(1, upstream.Count);
    }

    [Theory]
    [InlineData("TagGateway")]
    [InlineData("Direct")]
    public async Task Fifty_concurrent_misses_make_one_upstream_fetch(string mode)
    {
        var body = Bodies.Script("coalesced");
        await using var upstream = await FakeUpstream.StartAsync(ServeScript(body, delay: TimeSpan.FromMilliseconds(500)));
        await using var gateway = await GatewayInstance.StartAsync(SettingsFor(mode, upstream.Origin));

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(async _ =>
        {
            using var response = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234"));
            return (response.StatusCode, Body: await Bodies.ReadDecodedAsync(response));
        }));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.All(responses, r => Assert.Equal(body, r.Body));
        Assert.Equal(1, upstream.Count);
    }

    [Theory]
    [InlineData("TagGateway")]
    [InlineData("Direct")]
    public async Task Stale_script_is_served_when_the_upstream_fails(string mode)
    {
        var body = Bodies.Script("stale-if-error");
        var failing = false;
        await using var upstream = await FakeUpstream.StartAsync();
        upstream.Handler = (context, request) =>
        {
            if (failing)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return Task.CompletedTask;
            }

            return ServeScript(body, "public, max-age=60")(context, request);
        };
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var settings = SettingsFor(mode, upstream.Origin);
        settings["Gateway:Scripts:StaleWhileRevalidate"] = "00:00:00";
        settings["Gateway:Scripts:StaleIfError"] = "01:00:00";
        await using var gateway = await GatewayInstance.StartAsync(settings, time);

        using var first = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234"));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        failing = true;
        time.Advance(TimeSpan.FromMinutes(5));
        using var stale = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234"));
        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Equal("stale-if-error", stale.Headers.GetValues("X-TagGateway-Cache").Single());
        Assert.Equal(body, await Bodies.ReadDecodedAsync(stale));
        Assert.Equal(2, upstream.Count);

        // Past the stale-if-error bound the gateway stops pretending: a clean 502.
        time.Advance(TimeSpan.FromHours(2));
        using var gone = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234"));
        Assert.Equal(HttpStatusCode.BadGateway, gone.StatusCode);
    }

    [Fact]
    public async Task Stale_script_is_served_while_a_background_refresh_runs()
    {
        var version = 1;
        await using var upstream = await FakeUpstream.StartAsync();
        upstream.Handler = (context, request) => ServeScript(Bodies.Script($"v{version}"), "public, max-age=60")(context, request);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var settings = GatewayInstance.Settings(upstream.Origin);
        settings["Gateway:Scripts:StaleWhileRevalidate"] = "00:10:00";
        await using var gateway = await GatewayInstance.StartAsync(settings, time);

        using var first = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234"));
        version = 2;
        time.Advance(TimeSpan.FromSeconds(90));

        using var stale = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234"));
        Assert.Equal("stale", stale.Headers.GetValues("X-TagGateway-Cache").Single());
        Assert.Contains("/* v1 */", await Bodies.ReadDecodedAsync(stale));

        // The refresh lands in the background; the next visitor gets the new body, fresh.
        string? refreshed = null;
        for (var i = 0; i < 500 && refreshed is null; i++)
        {
            using var next = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234"));
            if (next.Headers.GetValues("X-TagGateway-Cache").Single() == "hit")
            {
                refreshed = await Bodies.ReadDecodedAsync(next);
            }
            else
            {
                await Task.Delay(20);
            }
        }

        Assert.NotNull(refreshed);
        Assert.Contains("/* v2 */", refreshed);
        Assert.Equal(2, upstream.Count);
    }

    [Fact]
    public async Task Expired_script_is_revalidated_with_the_upstream_etag()
    {
        await using var upstream = await FakeUpstream.StartAsync(ServeScript(Bodies.Script("revalidate"), "public, max-age=60", etag: "\"up-1\""));
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var settings = GatewayInstance.Settings(upstream.Origin);
        settings["Gateway:Scripts:StaleWhileRevalidate"] = "00:00:00";
        await using var gateway = await GatewayInstance.StartAsync(settings, time);

        using var first = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234"));
        time.Advance(TimeSpan.FromMinutes(2));
        using var second = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234"));

        Assert.Equal("revalidated", second.Headers.GetValues("X-TagGateway-Cache").Single());
        Assert.Equal("\"up-1\"", upstream.Last.Header("If-None-Match"));
        Assert.Equal(first.Headers.ETag, second.Headers.ETag);
        Assert.Equal(await Bodies.ReadDecodedAsync(first), await Bodies.ReadDecodedAsync(second));
    }

    [Theory]
    [InlineData("gtm_debug=x")]
    [InlineData("gtm_auth=abc&gtm_preview=env-3")]
    public async Task Preview_and_debug_loads_bypass_the_cache(string debugQuery)
    {
        await using var upstream = await FakeUpstream.StartAsync(ServeScript(Bodies.Script("preview")));
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin));

        for (var i = 0; i < 3; i++)
        {
            using var response = await gateway.Public.SendAsync(Get($"/metrics/gtm.js?id=GTM-TEST567&{debugQuery}"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(3, upstream.Count);
    }

    [Fact]
    public async Task Upstream_vary_header_keys_the_cache_on_that_request_header()
    {
        await using var upstream = await FakeUpstream.StartAsync(async (context, request) =>
        {
            context.Response.Headers.Vary = "Accept-Encoding, User-Agent";
            context.Response.Headers.CacheControl = "public, max-age=600";
            await context.Response.WriteAsync($"/* for {request.Header("User-Agent")} */");
        });
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin));

        async Task<string> Load(string userAgent)
        {
            using var request = Get("/metrics/gtag/js?id=G-TEST1234");
            request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
            using var response = await gateway.Public.SendAsync(request);
            Assert.Contains("User-Agent", response.Headers.Vary);
            return await Bodies.ReadDecodedAsync(response);
        }

        Assert.Equal("/* for Safari */", await Load("Safari"));
        Assert.Equal("/* for Chrome */", await Load("Chrome"));
        Assert.Equal("/* for Safari */", await Load("Safari"));
        Assert.Equal("/* for Chrome */", await Load("Chrome"));
        Assert.Equal(2, upstream.Count);
    }

    [Fact]
    public async Task Geolocation_is_part_of_the_key_and_sent_upstream()
    {
        await using var upstream = await FakeUpstream.StartAsync(async (context, request) =>
        {
            context.Response.Headers.CacheControl = "public, max-age=600";
            await context.Response.WriteAsync($"/* region {request.Header("X-Forwarded-CountryRegion")} */");
        });
        var settings = GatewayInstance.Settings(upstream.Origin);
        settings["Gateway:ClientIdentity:Edge"] = "Cloudflare";
        await using var gateway = await GatewayInstance.StartAsync(settings);

        async Task<string> Load(string country, string region)
        {
            using var request = Get("/metrics/gtag/js?id=G-TEST1234");
            request.Headers.TryAddWithoutValidation("CF-IPCountry", country);
            request.Headers.TryAddWithoutValidation("CF-Region-Code", region);
            using var response = await gateway.Public.SendAsync(request);
            return await Bodies.ReadDecodedAsync(response);
        }

        Assert.Equal("/* region DE-BE */", await Load("DE", "BE"));
        Assert.Equal("/* region US-CA */", await Load("US", "CA"));
        Assert.Equal("/* region DE-BE */", await Load("DE", "BE"));
        Assert.Equal(2, upstream.Count);
    }

    [Fact]
    public async Task Set_cookie_on_a_script_is_never_shared_through_the_cache()
    {
        await using var upstream = await FakeUpstream.StartAsync(async (context, _) =>
        {
            context.Response.Headers.CacheControl = "public, max-age=600";
            context.Response.Headers.Append("Set-Cookie", "FPID=visitor-one; Path=/; HttpOnly");
            await context.Response.WriteAsync("/* script */");
        });
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin));

        using var first = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234"));
        using var second = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234"));

        Assert.False(first.Headers.Contains("Set-Cookie"));
        Assert.False(second.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task No_store_responses_are_served_but_not_kept()
    {
        await using var upstream = await FakeUpstream.StartAsync(ServeScript("/* private */", "no-store"));
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin));

        using var first = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234"));
        using var second = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234"));

        Assert.Equal("/* private */", await Bodies.ReadDecodedAsync(second));
        Assert.Equal(2, upstream.Count);
    }

    [Fact]
    public async Task Upstream_client_errors_are_relayed_and_not_cached()
    {
        await using var upstream = await FakeUpstream.StartAsync(static async (context, _) =>
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            await context.Response.WriteAsync("container not found");
        });
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin));

        using var first = await gateway.Public.SendAsync(Get("/metrics/gtm.js?id=GTM-TEST567"));
        using var second = await gateway.Public.SendAsync(Get("/metrics/gtm.js?id=GTM-TEST567"));

        Assert.Equal(HttpStatusCode.NotFound, first.StatusCode);
        Assert.Equal("container not found", await second.Content.ReadAsStringAsync());
        Assert.Equal(2, upstream.Count);
    }

    [Fact]
    public async Task Unreachable_upstream_with_nothing_cached_is_a_clean_502()
    {
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(FakeUpstream.ClosedOrigin()));

        using var response = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
    }

    [Fact]
    public async Task Slow_upstream_with_nothing_cached_is_a_504_within_the_fetch_timeout()
    {
        await using var upstream = await FakeUpstream.StartAsync(ServeScript("/* slow */", delay: TimeSpan.FromSeconds(20)));
        var settings = GatewayInstance.Settings(upstream.Origin);
        settings["Gateway:Scripts:FetchTimeout"] = "00:00:00.500";
        await using var gateway = await GatewayInstance.StartAsync(settings);

        using var response = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
    }

    [Fact]
    public async Task Direct_mode_fetches_scripts_from_the_tag_manager_with_the_prefix_stripped()
    {
        await using var tagManager = await FakeUpstream.StartAsync(ServeScript("/* direct */"));
        await using var elsewhere = await FakeUpstream.StartAsync();
        var settings = GatewayInstance.Settings(elsewhere.Origin);
        settings["Gateway:Mode"] = "Direct";
        settings["Gateway:Upstreams:TagManager"] = tagManager.Origin.GetLeftPart(UriPartial.Authority);
        await using var gateway = await GatewayInstance.StartAsync(settings);

        using var response = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234"));

        Assert.Equal("/* direct */", await Bodies.ReadDecodedAsync(response));
        Assert.Equal("/gtag/js?id=G-TEST1234", Assert.Single(tagManager.Requests).PathAndQuery);
        Assert.Equal(0, elsewhere.Count);
    }
}
