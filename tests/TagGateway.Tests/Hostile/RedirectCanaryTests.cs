using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Hostile;

/// <summary>
/// Canaries for the host's outbound clients (issue #17: "a redirect-following canary for every outbound client").
/// The upstream answers a redirect to a second loopback server; that server must never see a request. The hit
/// forwarder passes the 3xx to the browser unchanged; the script fetcher treats it as an upstream error (stale if
/// it has a stale copy, else 502). The CAPI clients (issue #17 item 1) are not covered here.
/// </summary>
public sealed class RedirectCanaryTests : IAsyncLifetime
{
    private FakeUpstream _elsewhere = null!;

    public async Task InitializeAsync() => _elsewhere = await FakeUpstream.StartAsync();

    public async Task DisposeAsync() => await _elsewhere.DisposeAsync();

    private string ElsewhereUrl(string path) => new Uri(_elsewhere.Origin, path).ToString();

    private Func<HttpContext, RecordedRequest, Task> RedirectTo(int status, string path) => (context, _) =>
    {
        context.Response.StatusCode = status;
        context.Response.Headers.Location = ElsewhereUrl(path);
        context.Response.Headers["X-Upstream-Marker"] = "kept";
        return Task.CompletedTask;
    };

    public static TheoryData<int, string> HitRedirects()
    {
        var data = new TheoryData<int, string>();
        foreach (var status in new[] { 301, 302, 303, 307, 308 })
        {
            data.Add(status, "GET");
            data.Add(status, "POST");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(HitRedirects))]
    public async Task Hit_forwarder_passes_a_redirect_to_the_browser_and_never_follows_it(int status, string method)
    {
        await using var upstream = await FakeUpstream.StartAsync(RedirectTo(status, "/collect-elsewhere?token=secret"));
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin));

        using var request = new HttpRequestMessage(new HttpMethod(method), "/metrics/g/collect?v=2&tid=G-TEST1234&en=page_view");
        if (method == "POST")
        {
            request.Content = new StringContent("en=purchase&ep.value=1", Encoding.ASCII, "text/plain");
        }

        using var response = await gateway.Public.SendAsync(request);

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(ElsewhereUrl("/collect-elsewhere?token=secret"), response.Headers.Location!.ToString());
        Assert.Equal("kept", response.Headers.GetValues("X-Upstream-Marker").Single());
        Assert.Equal(1, upstream.Count);
        Assert.Equal(0, _elsewhere.Count);
    }

    [Theory]
    [InlineData(301)]
    [InlineData(302)]
    [InlineData(303)]
    [InlineData(307)]
    [InlineData(308)]
    public async Task Script_fetcher_never_follows_a_redirect_and_answers_502_with_nothing_cached(int status)
    {
        await using var upstream = await FakeUpstream.StartAsync(RedirectTo(status, "/gtag/js?id=G-TEST1234"));
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin));

        using var response = await gateway.Public.GetAsync("/metrics/gtag/js?id=G-TEST1234");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.False(response.Headers.Contains("X-Upstream-Marker"));
        Assert.True(upstream.Count >= 1);
        Assert.Equal(0, _elsewhere.Count);
    }

    [Theory]
    [InlineData(302)]
    [InlineData(307)]
    public async Task Script_fetcher_serves_its_stale_copy_when_the_upstream_redirects(int status)
    {
        var redirecting = false;
        await using var upstream = await FakeUpstream.StartAsync();
        var redirect = RedirectTo(status, "/gtag/js?id=G-TEST1234");
        upstream.Handler = (context, request) =>
        {
            if (redirecting)
            {
                return redirect(context, request);
            }

            context.Response.ContentType = "application/javascript";
            context.Response.Headers.CacheControl = "public, max-age=60";
            return context.Response.WriteAsync("/* the good copy */");
        };
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var settings = GatewayInstance.Settings(upstream.Origin);
        settings["Gateway:Scripts:StaleWhileRevalidate"] = "00:00:00";
        settings["Gateway:Scripts:StaleIfError"] = "01:00:00";
        await using var gateway = await GatewayInstance.StartAsync(settings, time);

        using var first = await gateway.Public.GetAsync("/metrics/gtag/js?id=G-TEST1234");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        redirecting = true;
        time.Advance(TimeSpan.FromMinutes(5));
        using var stale = await gateway.Public.GetAsync("/metrics/gtag/js?id=G-TEST1234");

        Assert.Equal(HttpStatusCode.OK, stale.StatusCode);
        Assert.Equal("stale-if-error", stale.Headers.GetValues("X-TagGateway-Cache").Single());
        Assert.Equal("/* the good copy */", await Bodies.ReadDecodedAsync(stale));
        Assert.Null(stale.Headers.Location);
        Assert.Equal(2, upstream.Count);
        Assert.Equal(0, _elsewhere.Count);
    }
}
