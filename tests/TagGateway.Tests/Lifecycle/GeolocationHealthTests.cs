using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using TagGateway.ClientIdentity;
using TagGateway.Configuration;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Lifecycle;

/// <summary>No visitor geolocation from the edge is said loudly: start-up, logs, metrics and /readyz (issue #12.3).</summary>
public sealed class GeolocationHealthTests
{
    private const int StartupWarning = 5;
    private const int RuntimeWarning = 1500;

    [Fact]
    public async Task Direct_edge_warns_at_start_and_hits_without_geolocation_move_the_metric_and_readyz()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await LifecycleHost.StartAsync(GatewayInstance.Settings(upstream.Origin));

        var startup = Assert.Single(gateway.Logs.WithId(StartupWarning));
        Assert.Equal(LogLevel.Warning, startup.Level);
        Assert.Contains("Gateway:ClientIdentity:Edge", startup.Message, StringComparison.Ordinal);
        Assert.Contains("edge-config/", startup.Message, StringComparison.Ordinal);
        Assert.Equal("ready\ngeolocation: unknown\n", await gateway.Management.GetStringAsync("/readyz"));

        for (var i = 0; i < 5; i++)
        {
            using var hit = await gateway.Public.PostAsync("/metrics/g/collect?v=2&tid=G-TEST1234&en=page_view", new StringContent(string.Empty));
            Assert.Equal(HttpStatusCode.NoContent, hit.StatusCode);
        }

        // Degraded, not down: readiness stays 200 and says what is missing.
        using var ready = await gateway.Management.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("ready\ngeolocation: missing\n", await ready.Content.ReadAsStringAsync());
        Assert.Equal(5, await gateway.MetricAsync("taggateway_requests_without_geolocation_total{source=\"socket\"}"));
        Assert.Equal(0, await gateway.MetricAsync("taggateway_requests_without_geolocation_total{source=\"edge\"}"));
        Assert.Equal(0, await gateway.MetricAsync("taggateway_requests_with_geolocation_total"));
        Assert.Equal(1, await gateway.MetricAsync("taggateway_geolocation_state{state=\"missing\"}"));

        // One runtime warning for five hits: rate-limited, naming the setting.
        var runtime = Assert.Single(gateway.Logs.WithId(RuntimeWarning));
        Assert.Equal(LogLevel.Warning, runtime.Level);
        Assert.Contains("Gateway:ClientIdentity:Edge is Direct", runtime.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hits_with_geolocation_from_a_trusted_edge_count_as_present_and_warn_nothing()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = GatewayInstance.Settings(upstream.Origin);
        settings["Gateway:ClientIdentity:Edge"] = "ReverseProxy";
        await using var gateway = await LifecycleHost.StartAsync(settings);

        for (var i = 0; i < 5; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/metrics/g/collect?v=2&tid=G-TEST1234&en=page_view") { Content = new StringContent(string.Empty) };
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", "198.51.100.7");
            request.Headers.TryAddWithoutValidation("X-Forwarded-CountryRegion", "NL-NH");
            using var hit = await gateway.Public.SendAsync(request);
            Assert.Equal(HttpStatusCode.NoContent, hit.StatusCode);
        }

        Assert.Equal("ready\ngeolocation: present\n", await gateway.Management.GetStringAsync("/readyz"));
        Assert.Equal(5, await gateway.MetricAsync("taggateway_requests_with_geolocation_total"));
        Assert.Equal(0, await gateway.MetricAsync("taggateway_requests_without_geolocation_total{source=\"edge\"}"));
        Assert.Equal(0, await gateway.MetricAsync("taggateway_requests_without_geolocation_total{source=\"socket\"}"));
        Assert.Equal(1, await gateway.MetricAsync("taggateway_geolocation_state{state=\"present\"}"));
        Assert.Empty(gateway.Logs.WithId(StartupWarning));
        Assert.Empty(gateway.Logs.WithId(RuntimeWarning));
    }

    [Fact]
    public async Task A_trusted_edge_that_sends_no_location_is_reported_as_the_edge_missing_it()
    {
        // Caddy, or nginx with an empty geo map: trusted, but no location header.
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = GatewayInstance.Settings(upstream.Origin);
        settings["Gateway:ClientIdentity:Edge"] = "ReverseProxy";
        await using var gateway = await LifecycleHost.StartAsync(settings);

        using var hit = await gateway.Public.PostAsync("/metrics/g/collect?v=2&tid=G-TEST1234&en=page_view", new StringContent(string.Empty));

        Assert.Equal(HttpStatusCode.NoContent, hit.StatusCode);
        Assert.Empty(gateway.Logs.WithId(StartupWarning));
        Assert.Equal("ready\ngeolocation: missing\n", await gateway.Management.GetStringAsync("/readyz"));
        Assert.Equal(1, await gateway.MetricAsync("taggateway_requests_without_geolocation_total{source=\"edge\"}"));
        Assert.Contains("ReverseProxy edge is trusted but sends no location", Assert.Single(gateway.Logs.WithId(RuntimeWarning)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_few_requests_without_location_behind_a_locating_edge_stay_present_a_run_of_them_is_missing()
    {
        var (health, _, _) = Create(EdgeKind.Cloudflare);
        var located = new ClientInfo("198.51.100.7", "NL-NH", "NL", IsHttps: true, FromTrustedEdge: true);
        var anonymous = new ClientInfo("198.51.100.8", null, null, IsHttps: true, FromTrustedEdge: true);
        Assert.Equal(GeolocationState.Unknown, health.State);

        health.Observe(located);
        for (var i = 0; i < GeolocationHealth.MissingStreak - 1; i++)
        {
            health.Observe(anonymous);
        }

        Assert.Equal(GeolocationState.Present, health.State);
        health.Observe(anonymous);
        Assert.Equal(GeolocationState.Missing, health.State);
        health.Observe(located);
        Assert.Equal(GeolocationState.Present, health.State);
    }

    [Fact]
    public void The_runtime_warning_repeats_at_most_every_fifteen_minutes()
    {
        var (health, time, logs) = Create(EdgeKind.Direct);
        var direct = new ClientInfo("198.51.100.7", null, null, IsHttps: false, FromTrustedEdge: false);

        for (var i = 0; i < 100; i++)
        {
            health.Observe(direct);
        }

        Assert.Single(logs.WithId(RuntimeWarning));
        time.Advance(TimeSpan.FromMinutes(14));
        health.Observe(direct);
        Assert.Single(logs.WithId(RuntimeWarning));
        time.Advance(TimeSpan.FromMinutes(2));
        health.Observe(direct);
        Assert.Equal(2, logs.WithId(RuntimeWarning).Count());
    }

    [Fact]
    public void Observing_a_request_allocates_nothing()
    {
        var (health, _, _) = Create(EdgeKind.Cloudflare);
        var located = new ClientInfo("198.51.100.7", "NL-NH", "NL", IsHttps: true, FromTrustedEdge: true);
        var anonymous = new ClientInfo("198.51.100.8", null, null, IsHttps: true, FromTrustedEdge: true);
        health.Observe(located);
        health.Observe(anonymous);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            health.Observe(located);
            health.Observe(anonymous);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(10_001, health.WithGeolocation);
        Assert.Equal(10_001, health.WithoutFromEdge);
    }

    private static (GeolocationHealth Health, FakeTimeProvider Time, CapturedLogs Logs) Create(EdgeKind edge)
    {
        var options = new GatewayOptions();
        options.ClientIdentity.Edge = edge;
        var time = new FakeTimeProvider();
        var logs = new CapturedLogs();
        var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        return (new GeolocationHealth(options, time, factory.CreateLogger<GeolocationHealth>()), time, logs);
    }
}
