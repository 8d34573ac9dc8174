using System.Net;
using System.Text.Json;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Demo;

/// <summary>The README's first command: the embedded defaults with no tag configured run the demo end to end.</summary>
public sealed class DemoTests
{
    [Fact]
    public async Task Default_configuration_serves_the_demo_page_a_script_a_hit_and_a_server_set_cookie()
    {
        var demoUpstream = FakeUpstream.ClosedOrigin();
        await using var gateway = await GatewayInstance.StartAsync(new()
        {
            ["Gateway:PublicUrl"] = "http://127.0.0.1:0",
            ["Gateway:ManagementUrl"] = "http://127.0.0.1:0",
            ["Gateway:Demo:UpstreamUrl"] = demoUpstream.GetLeftPart(UriPartial.Authority),
            ["Logging:LogLevel:Default"] = "Warning",
        });

        var page = await gateway.Public.GetStringAsync("/");
        Assert.Contains("<script async src=\"/metrics/gtag/js?id=G-DEMO1234\"></script>", page, StringComparison.Ordinal);

        using var script = await gateway.Public.GetAsync("/metrics/gtag/js?id=G-DEMO1234");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Contains("tagGatewayDemo", await Bodies.ReadDecodedAsync(script), StringComparison.Ordinal);

        using var hit = await gateway.Public.PostAsync("/metrics/g/collect?v=2&tid=G-DEMO1234&cid=1.2&en=page_view", new StringContent("en=scroll"));
        Assert.Equal(HttpStatusCode.NoContent, hit.StatusCode);
        var cookie = Assert.Single(hit.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("FPID=", cookie, StringComparison.Ordinal);
        Assert.Contains("HttpOnly", cookie, StringComparison.Ordinal);

        using var report = JsonDocument.Parse(await gateway.Public.GetStringAsync("/demo/last-hit"));
        var root = report.RootElement;
        Assert.Equal("/metrics/g/collect", root.GetProperty("path").GetString());
        Assert.Equal("g-demo1234.fps.goog", root.GetProperty("headers").GetProperty("Host").GetString());
        Assert.Equal("127.0.0.1", root.GetProperty("headers").GetProperty("X-Forwarded-For").GetString());
        Assert.Equal(9, root.GetProperty("bodyBytes").GetInt32());
    }

    [Fact]
    public async Task Configuring_a_tag_turns_the_demo_off()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = GatewayInstance.Settings(upstream.Origin);
        settings.Remove("Gateway:Demo:Enabled");
        await using var gateway = await GatewayInstance.StartAsync(settings);

        using var page = await gateway.Public.GetAsync("/");
        using var hit = await gateway.Public.GetAsync("/metrics/g/collect?v=2&tid=G-TEST1234");

        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.Equal(1, upstream.Count);
    }
}
