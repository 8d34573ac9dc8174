using System.Net;
using System.Text.Json;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.CommandLine;

/// <summary>The gateway's side of <c>doctor</c>: <c>{measurement path}/tg-doctor</c>, for the token holder only.</summary>
public sealed class EdgeDiagnosticTests
{
    private const string Token = "diagnostic-token-for-tests";
    private const string Secret = "edge-secret-for-tests";

    private static Dictionary<string, string?> Settings(Uri upstream, bool withToken = true, bool withSecret = true)
    {
        var settings = GatewayInstance.Settings(upstream);
        settings["Gateway:Mode"] = "Direct";
        settings["Gateway:ClientIdentity:Edge"] = "ReverseProxy";
        settings["Gateway:ClientIdentity:EdgeSecret"] = withSecret ? Secret : null;
        settings["Gateway:Management:DiagnosticToken"] = withToken ? Token : null;
        return settings;
    }

    private static HttpRequestMessage ThroughEdge(string? token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/metrics/tg-doctor");
        request.Headers.Add("X-TagGateway-Secret", Secret);
        request.Headers.Add("X-Forwarded-For", "198.51.100.7");
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-Host", "www.example.test");
        request.Headers.Add("X-Forwarded-CountryRegion", "NL-NH");
        if (token is not null)
        {
            request.Headers.Add("X-TagGateway-Diagnostic-Token", token);
        }

        return request;
    }

    [Theory]
    [InlineData(Token)]
    [InlineData(Secret)]
    public async Task The_token_or_the_edge_secret_gets_what_the_gateway_saw_without_the_ip_itself(string token)
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(Settings(upstream.Origin));

        using var response = await gateway.Public.SendAsync(ThroughEdge(token));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var json = JsonDocument.Parse(body).RootElement;
        Assert.True(json.GetProperty("trustedEdge").GetBoolean());
        Assert.Equal("ReverseProxy", json.GetProperty("edge").GetString());
        Assert.Equal("NL", json.GetProperty("country").GetString());
        Assert.Equal("NL-NH", json.GetProperty("countryRegion").GetString());
        Assert.Equal("https", json.GetProperty("scheme").GetString());
        Assert.Equal("www.example.test", json.GetProperty("siteHost").GetString());
        Assert.Equal("IPv4", json.GetProperty("clientIpFamily").GetString());
        Assert.DoesNotContain("198.51.100.7", body, StringComparison.Ordinal);
        Assert.DoesNotContain(token, body, StringComparison.Ordinal);
        Assert.Equal(0, upstream.Count);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("diagnostic-token-for-test")]
    [InlineData("diagnostic-token-for-tests-and-more")]
    public async Task Without_the_token_it_is_the_404_of_any_unknown_path(string? token)
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(Settings(upstream.Origin));

        using var response = await gateway.Public.SendAsync(ThroughEdge(token));
        using var unknown = await gateway.Public.GetAsync("/metrics/tg-nothing");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(await unknown.Content.ReadAsStringAsync(), await response.Content.ReadAsStringAsync());
        Assert.Equal(0, upstream.Count);
    }

    [Fact]
    public async Task With_neither_secret_configured_the_diagnostic_does_not_exist()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(Settings(upstream.Origin, withToken: false, withSecret: false));

        using var response = await gateway.Public.SendAsync(ThroughEdge(string.Empty));
        using var guessed = await gateway.Public.SendAsync(ThroughEdge(Token));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, guessed.StatusCode);
    }
}
