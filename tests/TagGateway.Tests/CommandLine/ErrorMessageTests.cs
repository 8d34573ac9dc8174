using System.Net;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.CommandLine;

/// <summary>Refusals and upstream failures say what happened (issue #15): a plain-text line, never an echo of the input.</summary>
public sealed class ErrorMessageTests
{
    [Theory]
    [InlineData("DELETE", "/metrics/g/collect?v=2&tid=G-TEST1234&x=ECHOME", HttpStatusCode.MethodNotAllowed, "this method is not allowed here")]
    [InlineData("GET", "/metrics/ECHOME/collect?v=2", HttpStatusCode.NotFound, "not a Google tag or measurement endpoint")]
    [InlineData("GET", "/metrics/g/collect?v=2&tid=G-ECHOME%3Cscript%3E", HttpStatusCode.BadRequest, "tid is not a Google tag ID")]
    [InlineData("GET", "/metrics/g/collect?v=2&tid=G-TEST1234&TID=G-ECHOME12", HttpStatusCode.BadRequest, "a hit names its tag once")]
    public async Task A_refused_hit_carries_a_one_line_plain_text_reason_without_echoing_the_request(string method, string target, HttpStatusCode status, string reason)
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = GatewayInstance.Settings(upstream.Origin);

        // Direct mode knows which paths Google answers (TagGateway mode forwards any path under the measurement path).
        settings["Gateway:Mode"] = "Direct";
        await using var gateway = await GatewayInstance.StartAsync(settings);

        using var request = new HttpRequestMessage(new HttpMethod(method), target);
        using var response = await gateway.Public.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(status, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(reason, body, StringComparison.Ordinal);
        Assert.EndsWith("\n", body, StringComparison.Ordinal);
        Assert.Single(body.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("ECHOME", body, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(0, upstream.Count);
    }

    [Fact]
    public async Task An_upstream_failure_logs_the_socket_error_in_one_line()
    {
        var closed = FakeUpstream.ClosedOrigin();
        var publicPort = TagGateway.TestKit.Loopback.LoopbackPorts.Free();
        using var run = GatewayProcess.Start([], new()
        {
            ["Gateway__TagIds__0"] = "G-TEST1234",
            ["Gateway__PublicUrl"] = $"http://127.0.0.1:{publicPort}",
            ["Gateway__Upstreams__TagGatewayOrigin"] = closed.GetLeftPart(UriPartial.Authority),
        });
        Assert.True(await run.WaitForOutputAsync("TagGateway listening", TimeSpan.FromSeconds(30)), run.Stdout + run.Stderr);

        using var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, UseCookies = false }) { BaseAddress = new Uri($"http://127.0.0.1:{publicPort}") };
        using var response = await client.PostAsync("/metrics/g/collect?v=2&tid=G-TEST1234&cid=1.2&en=page_view", new StringContent(string.Empty));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.True(await run.WaitForOutputAsync("socket error ConnectionRefused (111)", TimeSpan.FromSeconds(10)), run.Stdout);
    }
}
