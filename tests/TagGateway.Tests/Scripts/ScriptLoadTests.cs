using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Scripts;

/// <summary>
/// Script loads through the real gateway against a loopback upstream: the whole parameter set decides which tag
/// loads (issue #17.3), and no cheap request can turn into a lot of CPU (issue #17.2).
/// </summary>
public sealed class ScriptLoadTests
{
    private static Func<HttpContext, RecordedRequest, Task> ServeScript(string cacheControl = "public, max-age=900") =>
        async (context, request) =>
        {
            context.Response.ContentType = "application/javascript; charset=utf-8";
            context.Response.Headers.CacheControl = cacheControl;
            await context.Response.WriteAsync(Bodies.Script(request.PathAndQuery));
        };

    private static HttpRequestMessage Get(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Accept-Encoding", "br, gzip");
        return request;
    }

    [Fact]
    public async Task Cache_busting_parameters_cost_at_most_one_upstream_fetch_per_real_key()
    {
        await using var upstream = await FakeUpstream.StartAsync(ServeScript());
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin));

        for (var i = 0; i < 200; i++)
        {
            var target = (i % 4) switch
            {
                0 => $"/metrics/gtag/js?id=G-TEST1234&l=dataLayer&cb={i}",
                1 => $"/metrics/gtag/js?l=dataLayer&_={i}&id=G-TEST1234",
                2 => $"/metrics/gtm.js?id=GTM-TEST567&v={i}&random=abc{i}",
                _ => $"/metrics/gtm.js?nocache={i}&id=GTM-TEST567",
            };
            using var response = await gateway.Public.SendAsync(Get(target));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Two real keys, two fetches, and nothing of the junk reached Google.
        Assert.Equal(
            ["/metrics/gtag/js?id=G-TEST1234&l=dataLayer", "/metrics/gtm.js?id=GTM-TEST567"],
            upstream.Requests.Select(r => r.PathAndQuery).Order(StringComparer.Ordinal));
        var metrics = await gateway.Management.GetStringAsync("/metrics");
        Assert.Contains("taggateway_script_cache_lookups_total{result=\"hit\"} 198", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Uncached_keys_beyond_the_miss_budget_get_503_with_retry_after_and_are_counted_while_cached_ones_still_serve()
    {
        await using var upstream = await FakeUpstream.StartAsync(ServeScript("public, max-age=60"));
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var settings = GatewayInstance.Settings(upstream.Origin);
        settings["Gateway:Scripts:MaxMissesPerSecond"] = "1";
        settings["Gateway:Scripts:MissBurst"] = "3";
        settings["Gateway:Scripts:StaleWhileRevalidate"] = "00:00:00";
        await using var gateway = await GatewayInstance.StartAsync(settings, time);

        // A real parameter varied on purpose: every value is a key of its own.
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            using var response = await gateway.Public.SendAsync(Get($"/metrics/gtag/js?id=G-TEST1234&gtm=build{i}"));
            statuses.Add(response.StatusCode);
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter!.Delta);
                Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
                Assert.Equal("script cache miss budget spent; retry later\n", await response.Content.ReadAsStringAsync());
            }
        }

        Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.OK, 3), .. Enumerable.Repeat(HttpStatusCode.ServiceUnavailable, 7)], statuses);
        Assert.Equal(3, upstream.Count);
        var metrics = await gateway.Management.GetStringAsync("/metrics");
        Assert.Contains("taggateway_script_cache_misses_refused_total 7", metrics, StringComparison.Ordinal);
        Assert.Contains("taggateway_script_cache_lookups_total{result=\"over_budget\"} 7", metrics, StringComparison.Ordinal);
        Assert.Contains("taggateway_requests_total{route=\"script\",outcome=\"overloaded\"} 7", metrics, StringComparison.Ordinal);

        // A cached key costs no token: still served while the budget is spent.
        using (var cached = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234&gtm=build0&cb=1")))
        {
            Assert.Equal(HttpStatusCode.OK, cached.StatusCode);
            Assert.Equal("hit", cached.Headers.GetValues("X-TagGateway-Cache").Single());
        }

        // A second later one token is back: one more new key, not two.
        time.Advance(TimeSpan.FromSeconds(1));
        using (var next = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234&gtm=build10")))
        {
            Assert.Equal(HttpStatusCode.OK, next.StatusCode);
        }

        using (var refused = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234&gtm=build11")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }

        // Past freshness, with the bucket spent again: an expired key is revalidated, not refused.
        time.Advance(TimeSpan.FromMinutes(2));
        for (var i = 20; i < 23; i++)
        {
            using var spend = await gateway.Public.SendAsync(Get($"/metrics/gtag/js?id=G-TEST1234&gtm=build{i}"));
            Assert.Equal(HttpStatusCode.OK, spend.StatusCode);
        }

        using (var spent = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234&gtm=build23")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, spent.StatusCode);
        }

        using var expired = await gateway.Public.SendAsync(Get("/metrics/gtag/js?id=G-TEST1234&gtm=build0"));
        Assert.Equal(HttpStatusCode.OK, expired.StatusCode);
        Assert.Equal("miss", expired.Headers.GetValues("X-TagGateway-Cache").Single());
    }

    [Theory]
    [InlineData("/metrics/gtag/js?id=G-TEST1234&id=GTM-EVIL99", 400, "a script load names one tag: id appears more than once\n")]
    [InlineData("/metrics/gtag/js?id=G-TEST1234&ID=GTM-EVIL99", 400, "the tag parameter is spelled id: lower case, not encoded, no brackets\n")]
    [InlineData("/metrics/gtag/js?id=G-TEST1234&%69d=GTM-EVIL99", 400, "the tag parameter is spelled id: lower case, not encoded, no brackets\n")]
    [InlineData("/metrics/gtag/js?id=G-TEST1234&id[]=GTM-EVIL99", 400, "the tag parameter is spelled id: lower case, not encoded, no brackets\n")]
    [InlineData("/metrics/gtm.js?id[]=GTM-EVIL99&id=GTM-TEST567", 400, "the tag parameter is spelled id: lower case, not encoded, no brackets\n")]
    [InlineData("/metrics/?ID=GTM-EVIL99", 400, "the tag parameter is spelled id: lower case, not encoded, no brackets\n")]
    [InlineData("/metrics/ns.html?Id=GTM-EVIL99", 400, "the tag parameter is spelled id: lower case, not encoded, no brackets\n")]
    [InlineData("/metrics/gtm.js?id=GTM-EVIL99", 403, "tag ID GTM-EVIL99 is not configured on this gateway\n")]
    [InlineData("/metrics/gtag/destination?id=AW-123456789&l=dataLayer&cx=c", 403, "tag ID AW-123456789 is not configured on this gateway\n")]
    [InlineData("/metrics/gtag/js?id=evil%3Cscript%3E", 400, "id is not a Google tag ID (G-, GT-, GTM-, AW- or DC- and 4-16 upper-case letters or digits)\n")]
    [InlineData("/metrics/gtag/js?l=dataLayer", 400, "a script load names its tag in one id parameter\n")]
    [InlineData("/metrics/gtag/js?id=G-TEST1234&l=%3Cscript%3E", 400, "l, cx, gtm and tag_exp take letters, digits and . _ ~ - $ only\n")]
    public async Task A_script_load_is_refused_on_its_whole_parameter_set_with_a_short_plain_text_reason(string target, int status, string body)
    {
        await using var upstream = await FakeUpstream.StartAsync(ServeScript());
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin));

        var (actualStatus, headers, actualBody) = await SendRawAsync(gateway, target);

        Assert.Equal(status, actualStatus);
        Assert.Equal(body, actualBody);
        Assert.Contains("Content-Type: text/plain; charset=utf-8", headers, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Cache-Control: no-store", headers, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("EVIL", headers, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, upstream.Count);
    }

    [Fact]
    public async Task The_refusal_log_names_the_ID_only_when_it_is_one()
    {
        await using var upstream = await FakeUpstream.StartAsync(ServeScript());
        var settings = GatewayInstance.Settings(upstream.Origin);
        settings["Logging:LogLevel:TagGateway.Scripts"] = "Information";
        await using var gateway = await GatewayInstance.StartAsync(settings);
        var logs = new CapturedLogs();
        gateway.Services.GetRequiredService<ILoggerFactory>().AddProvider(logs);

        (await SendRawAsync(gateway, "/metrics/gtm.js?id=GTM-EVIL99")).Status.ShouldBe(403);
        (await SendRawAsync(gateway, "/metrics/gtag/js?id=evil%3Cscript%3E")).Status.ShouldBe(400);
        (await SendRawAsync(gateway, "/metrics/gtag/js?id=G-TEST1234&id=g-evil99")).Status.ShouldBe(400);

        var refusals = logs.Lines.Where(l => l.EventId == 1210).Select(l => l.Message).ToArray();
        Assert.Equal(3, refusals.Length);
        Assert.Contains("403: unknown_tag_id, tag ID GTM-EVIL99", refusals[0], StringComparison.Ordinal);
        Assert.Contains("400: malformed_tag_id, tag ID (16 characters, percent-encoded)", refusals[1], StringComparison.Ordinal);
        Assert.Contains("400: repeated_tag_id, tag ID (8 characters, a tag ID in the wrong case)", refusals[2], StringComparison.Ordinal);
        Assert.DoesNotContain(refusals, r => r.Contains("evil", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_diagnostics_beacon_on_a_loader_url_is_forwarded_whole_and_never_answered_from_the_cache()
    {
        await using var upstream = await FakeUpstream.StartAsync((context, request) =>
        {
            if (request.PathAndQuery.Contains("is_td=1", StringComparison.Ordinal))
            {
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                return Task.CompletedTask;
            }

            return ServeScript()(context, request);
        });
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin));

        using var load = await gateway.Public.SendAsync(Get("/metrics/gtm.js?id=GTM-TEST567"));
        Assert.Equal(HttpStatusCode.OK, load.StatusCode);
        for (var seq = 1; seq <= 2; seq++)
        {
            using var beacon = await gateway.Public.SendAsync(Get($"/metrics/gtm.js?id=GTM-TEST567&is_td=1&v=3&t=t&pid=1888418727&seq={seq}&z=0"));
            Assert.Equal(HttpStatusCode.NoContent, beacon.StatusCode);
        }

        Assert.Equal(
            ["/metrics/gtm.js?id=GTM-TEST567", "/metrics/gtm.js?id=GTM-TEST567&is_td=1&v=3&t=t&pid=1888418727&seq=1&z=0", "/metrics/gtm.js?id=GTM-TEST567&is_td=1&v=3&t=t&pid=1888418727&seq=2&z=0"],
            upstream.Requests.Select(r => r.PathAndQuery));
    }

    /// <summary>Sends a target byte for byte (HttpClient would re-encode some) and reads the whole response.</summary>
    private static async Task<(int Status, string Headers, string Body)> SendRawAsync(GatewayInstance gateway, string target)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(gateway.PublicEndPoint);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n"));
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer).WaitAsync(TimeSpan.FromSeconds(10));
        var text = Encoding.ASCII.GetString(buffer.ToArray());
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = text[..split];
        var status = int.Parse(head.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);
        return (status, head, text[(split + 4)..]);
    }
}

internal static class StatusAssertions
{
    public static void ShouldBe(this int actual, int expected) => Assert.Equal(expected, actual);
}
