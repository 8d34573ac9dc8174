using System.Net;
using System.Text;
using TagGateway.Tests.Hostile;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Forwarding;

/// <summary>Every hostile input gets a 4xx and nothing reaches the upstream: the gateway is never an open proxy.</summary>
public abstract class HostileInputTests : IAsyncLifetime
{
    /// <summary>The client under test: the whole suite runs over each (the derived classes below).</summary>
    protected abstract string Client { get; }

    private Dictionary<string, string?> Settings(Uri upstream)
    {
        var settings = GatewayInstance.Settings(upstream);
        settings["Gateway:Forwarding:Client"] = Client;
        return settings;
    }

    private FakeUpstream _upstream = null!;
    private GatewayInstance _gateway = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeUpstream.StartAsync();
        _gateway = await GatewayInstance.StartAsync(Settings(_upstream.Origin));
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
    }

    [Theory]
    [InlineData("GET /metrics/../admin HTTP/1.1", 400)]
    [InlineData("GET /metrics/g/../../etc/passwd HTTP/1.1", 400)]
    [InlineData("GET /metrics/%2e%2e/admin HTTP/1.1", 400)]
    [InlineData("GET /metrics/%2E%2E%2Fadmin HTTP/1.1", 400)]
    [InlineData("GET /metrics/g%2fcollect HTTP/1.1", 400)]
    [InlineData("GET /metrics/g%5ccollect HTTP/1.1", 400)]
    [InlineData("GET /metrics//evil.example/x HTTP/1.1", 400)]
    [InlineData("GET /metrics/./g/collect HTTP/1.1", 400)]
    [InlineData("GET /metrics/g/collect%00 HTTP/1.1", 400)]
    [InlineData("GET /metrics/g/collect%zz HTTP/1.1", 400)]
    [InlineData("GET http://evil.example/metrics/g/collect?tid=G-TEST1234 HTTP/1.1", 400)]
    [InlineData("GET http://evil.example/ HTTP/1.1", 400)]
    [InlineData("PUT /metrics/g/collect HTTP/1.1", 405)]
    [InlineData("DELETE /metrics/g/collect HTTP/1.1", 405)]
    [InlineData("OPTIONS /metrics/g/collect HTTP/1.1", 405)]
    [InlineData("POST /metrics/gtag/js?id=G-TEST1234 HTTP/1.1", 405)]
    [InlineData("GET /metrics/gtag/js HTTP/1.1", 400)]
    [InlineData("GET /metrics/gtag/js?id=G-OTHER999 HTTP/1.1", 403)]
    [InlineData("GET /metrics/gtag/js?id=evil.example%2F HTTP/1.1", 400)]
    [InlineData("GET /metrics/gtm.js?id=GTM-test567 HTTP/1.1", 400)]
    [InlineData("GET /metrics/g/collect?v=2&tid=evil.example HTTP/1.1", 400)]
    [InlineData("GET /METRICS/g/collect HTTP/1.1", 404)]
    [InlineData("GET /metricsX/g/collect HTTP/1.1", 404)]
    [InlineData("GET /admin HTTP/1.1", 404)]
    public async Task Refused_with_a_4xx_and_nothing_sent_upstream(string requestLine, int expected)
    {
        var status = await _gateway.SendRawAsync($"{requestLine}\r\nHost: shop.example\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");

        Assert.Equal(expected, status);
        Assert.Equal(0, _upstream.Count);
    }

    public static TheoryData<string> NewlyRefusedTraversals => TraversalForms.Data(TraversalForms.NewlyRefused);

    public static TheoryData<string> AlreadyRefusedTraversals => TraversalForms.Data(TraversalForms.AlreadyRefused);

    /// <summary>Issue #17 item 7: each of these reached the upstream before; the query names a configured tag, so only the path decides.</summary>
    [Theory]
    [MemberData(nameof(NewlyRefusedTraversals))]
    [MemberData(nameof(AlreadyRefusedTraversals))]
    public async Task Traversal_like_path_is_400_and_nothing_reaches_the_upstream(string rest)
    {
        foreach (var method in new[] { "GET", "POST" })
        {
            var exchange = await RawHttp.SendAsync(_gateway.PublicEndPoint, RawHttp.Utf8($"{method} /metrics{rest}?v=2&tid=G-TEST1234 HTTP/1.1\r\nHost: shop.example\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));

            Assert.Equal(400, exchange.FirstStatus);
        }

        Assert.Equal(0, _upstream.Count);
    }

    public static TheoryData<string> LegitimatePaths => TraversalForms.Data(TraversalForms.Legitimate);

    [Theory]
    [MemberData(nameof(LegitimatePaths))]
    public async Task Paths_Googles_tag_uses_still_pass(string rest)
    {
        var exchange = await RawHttp.SendAsync(_gateway.PublicEndPoint, RawHttp.Utf8($"GET /metrics{rest}?v=2&tid=G-TEST1234&id=G-TEST1234 HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n"));

        Assert.NotEqual(400, exchange.FirstStatus);
        Assert.Equal(1, _upstream.Count);
    }

    [Fact]
    public async Task Collect_body_over_64_KiB_is_413_before_reaching_the_upstream()
    {
        using var content = new ByteArrayContent(new byte[64 * 1024 + 1]);
        using var response = await _gateway.Public.PostAsync("/metrics/g/collect?v=2&tid=G-TEST1234", content);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(0, _upstream.Count);
    }

    [Fact]
    public async Task Chunked_collect_body_over_64_KiB_is_413_before_reaching_the_upstream()
    {
        var chunk = new string('a', 8 * 1024);
        var body = new StringBuilder();
        for (var i = 0; i < 9; i++)
        {
            body.Append($"{chunk.Length:x}\r\n{chunk}\r\n");
        }

        body.Append("0\r\n\r\n");
        var status = await _gateway.SendRawAsync($"POST /metrics/g/collect?v=2&tid=G-TEST1234 HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{body}");

        Assert.Equal(413, status);
        Assert.Equal(0, _upstream.Count);
    }

    [Fact]
    public async Task Chunked_collect_body_within_the_limit_is_forwarded_whole()
    {
        var status = await _gateway.SendRawAsync("POST /metrics/g/collect?v=2&tid=G-TEST1234 HTTP/1.1\r\nHost: shop.example\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\nen=ab\r\n4\r\n\r\nen\r\n0\r\n\r\n");

        Assert.Equal(204, status);
        Assert.Equal("en=ab\r\nen", Encoding.ASCII.GetString(Assert.Single(_upstream.Requests).Body));
    }

    [Fact]
    public async Task Headers_the_client_names_in_Connection_are_hop_by_hop_and_not_forwarded()
    {
        var status = await _gateway.SendRawAsync("GET /metrics/g/collect?v=2&tid=G-TEST1234 HTTP/1.1\r\nHost: shop.example\r\nX-Hop-Secret: internal\r\nX-Kept: yes\r\nConnection: X-Hop-Secret\r\n\r\n");

        Assert.Equal(204, status);
        var seen = Assert.Single(_upstream.Requests);
        Assert.Null(seen.Header("X-Hop-Secret"));
        Assert.Equal("yes", seen.Header("X-Kept"));
    }

    [Fact]
    public async Task Oversized_headers_get_431()
    {
        var status = await _gateway.SendRawAsync($"GET /metrics/g/collect HTTP/1.1\r\nHost: shop.example\r\nX-Big: {new string('x', 40 * 1024)}\r\nConnection: close\r\n\r\n");

        Assert.Equal(431, status);
        Assert.Equal(0, _upstream.Count);
    }

    [Fact]
    public async Task Oversized_request_line_gets_414()
    {
        var status = await _gateway.SendRawAsync($"GET /metrics/g/collect?x={new string('x', 9 * 1024)} HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n");

        Assert.Equal(414, status);
        Assert.Equal(0, _upstream.Count);
    }

    [Fact]
    public async Task Management_endpoints_are_not_served_on_the_public_listener()
    {
        using var health = await _gateway.Public.GetAsync("/healthz");
        using var metrics = await _gateway.Public.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.NotFound, health.StatusCode);

        // "/metrics" is the measurement path here: a bare request without a tag is a hit to nowhere useful, not the exporter.
        Assert.DoesNotContain("taggateway_requests_total", await metrics.Content.ReadAsStringAsync());
    }
}

public sealed class HostileInputTestsOverHttp : HostileInputTests
{
    protected override string Client => "Http";
}

public sealed class HostileInputTestsOverPipelines : HostileInputTests
{
    protected override string Client => "Pipelines";
}
