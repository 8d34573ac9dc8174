using System.Net;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Management;

public sealed class ManagementTests
{
    [Fact]
    public async Task Health_readiness_and_prometheus_metrics_on_the_management_listener()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin));
        using var hit = await gateway.Public.GetAsync("/metrics/g/collect?v=2&tid=G-TEST1234");
        using var refused = await gateway.Public.GetAsync("/metrics/gtag/js?id=G-NOTOURS1");

        Assert.Equal("ok", await gateway.Management.GetStringAsync("/healthz"));
        Assert.StartsWith("ready\n", await gateway.Management.GetStringAsync("/readyz"), StringComparison.Ordinal);
        using var metrics = await gateway.Management.GetAsync("/metrics");
        var text = await metrics.Content.ReadAsStringAsync();

        Assert.Equal("text/plain", metrics.Content.Headers.ContentType!.MediaType);
        Assert.Contains("# TYPE taggateway_requests_total counter", text, StringComparison.Ordinal);
        Assert.Contains("taggateway_requests_total{route=\"ga4_hit\",outcome=\"ok\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("taggateway_rejected_total{reason=\"unknown_tag_id\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("taggateway_upstream_duration_seconds_count{route=\"ga4_hit\"} 1", text, StringComparison.Ordinal);

        // The runtime's meter: the GC heap beside the process's memory, so RSS can be read against what is live.
        Assert.Contains("# TYPE dotnet_gc_last_collection_heap_size_bytes gauge", text, StringComparison.Ordinal);
        Assert.Contains("dotnet_gc_last_collection_heap_size_bytes{gc_heap_generation=\"gen2\"}", text, StringComparison.Ordinal);
        Assert.Contains("dotnet_gc_last_collection_memory_committed_size_bytes ", text, StringComparison.Ordinal);
        Assert.Contains("dotnet_gc_collections_total{gc_heap_generation=\"gen0\"}", text, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^dotnet_process_memory_working_set_bytes [1-9][0-9]{6,}$", text);
    }

    [Fact]
    public async Task Measurement_path_is_not_served_on_the_management_listener()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin));

        using var response = await gateway.Management.GetAsync("/metrics/g/collect?v=2&tid=G-TEST1234");

        Assert.Equal(0, upstream.Count);
        Assert.NotEqual(HttpStatusCode.NoContent, response.StatusCode);
    }
}
