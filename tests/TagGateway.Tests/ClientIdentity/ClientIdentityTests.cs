using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.ClientIdentity;

/// <summary>
/// The visitor's IP and location as the upstream receives them, for each edge the gateway can sit behind, and
/// proof that the same headers from an untrusted peer, or without the edge secret, are ignored.
/// </summary>
public sealed class ClientIdentityTests
{
    private const string Secret = "0123456789abcdef-worker-secret";

    private static async Task<RecordedRequest> HitThroughAsync(Dictionary<string, string?> extraSettings, params (string Name, string Value)[] headers)
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = GatewayInstance.Settings(upstream.Origin);
        foreach (var (key, value) in extraSettings)
        {
            settings[key] = value;
        }

        await using var gateway = await GatewayInstance.StartAsync(settings);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics/g/collect?v=2&tid=G-TEST1234");
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await gateway.Public.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return Assert.Single(upstream.Requests);
    }

    [Fact]
    public async Task Cloudflare_proxy_headers_are_believed_from_a_trusted_peer()
    {
        var seen = await HitThroughAsync(
            new() { ["Gateway:ClientIdentity:Edge"] = "Cloudflare" },
            ("CF-Connecting-IP", "2001:db8::7"), ("CF-IPCountry", "nl"), ("CF-Region-Code", "NH"));

        Assert.Equal("2001:db8::7", seen.Header("X-Forwarded-For"));
        Assert.Equal("NL-NH", seen.Header("X-Forwarded-CountryRegion"));
    }

    [Fact]
    public async Task Country_alone_is_sent_when_the_region_is_unknown()
    {
        var seen = await HitThroughAsync(
            new() { ["Gateway:ClientIdentity:Edge"] = "Cloudflare" },
            ("CF-Connecting-IP", "198.51.100.4"), ("CF-IPCountry", "JP"));

        Assert.Equal("JP", seen.Header("X-Forwarded-CountryRegion"));
        Assert.Equal("JP", seen.Header("X-Forwarded-Country"));
    }

    [Theory]
    [InlineData("XX")]
    [InlineData("T1")]
    [InlineData("Netherlands")]
    [InlineData("N1")]
    public async Task Unknown_or_malformed_countries_are_not_forwarded(string country)
    {
        var seen = await HitThroughAsync(
            new() { ["Gateway:ClientIdentity:Edge"] = "Cloudflare" },
            ("CF-Connecting-IP", "198.51.100.4"), ("CF-IPCountry", country), ("CF-Region-Code", "NH"));

        Assert.Null(seen.Header("X-Forwarded-CountryRegion"));
    }

    [Fact]
    public async Task Worker_headers_are_believed_with_the_secret()
    {
        var seen = await HitThroughAsync(
            new() { ["Gateway:ClientIdentity:Edge"] = "CloudflareWorker", ["Gateway:ClientIdentity:EdgeSecret"] = Secret },
            ("X-TagGateway-Client-IP", "203.0.113.50"), ("X-TagGateway-Country", "DE"), ("X-TagGateway-Region", "BE"),
            ("X-TagGateway-Proto", "https"), ("X-TagGateway-Secret", Secret));

        Assert.Equal("203.0.113.50", seen.Header("X-Forwarded-For"));
        Assert.Equal("DE-BE", seen.Header("X-Forwarded-CountryRegion"));
        Assert.Null(seen.Header("X-TagGateway-Secret"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("0123456789abcdef-worker-secreT")]
    [InlineData("")]
    public async Task Worker_headers_without_the_right_secret_are_ignored(string? presented)
    {
        var headers = new List<(string, string)> { ("X-TagGateway-Client-IP", "203.0.113.50"), ("X-TagGateway-Country", "DE"), ("X-TagGateway-Region", "BE") };
        if (presented is not null)
        {
            headers.Add(("X-TagGateway-Secret", presented));
        }

        var seen = await HitThroughAsync(
            new() { ["Gateway:ClientIdentity:Edge"] = "CloudflareWorker", ["Gateway:ClientIdentity:EdgeSecret"] = Secret },
            headers.ToArray());

        Assert.Equal("127.0.0.1", seen.Header("X-Forwarded-For"));
        Assert.Null(seen.Header("X-Forwarded-CountryRegion"));
    }

    [Fact]
    public async Task Google_load_balancer_client_is_second_from_the_right_and_CLDR_regions_become_ISO()
    {
        var seen = await HitThroughAsync(
            new() { ["Gateway:ClientIdentity:Edge"] = "GoogleLoadBalancer" },
            ("X-Forwarded-For", "10.9.9.9, 198.51.100.23, 34.120.1.1"), ("X-Gclb-Country", "US"), ("X-Gclb-Region", "USCA"));

        Assert.Equal("198.51.100.23", seen.Header("X-Forwarded-For"));
        Assert.Equal("US-CA", seen.Header("X-Forwarded-CountryRegion"));
    }

    [Fact]
    public async Task Reverse_proxy_chain_is_walked_from_the_right_skipping_trusted_hops()
    {
        var seen = await HitThroughAsync(
            new()
            {
                ["Gateway:ClientIdentity:Edge"] = "ReverseProxy",
                ["Gateway:ClientIdentity:TrustedProxies:0"] = "127.0.0.1/32",
                ["Gateway:ClientIdentity:TrustedProxies:1"] = "10.0.0.0/8",
            },
            ("X-Forwarded-For", "1.2.3.4, 198.51.100.77, 10.0.0.5"), ("X-Forwarded-CountryRegion", "fr-idf"));

        // 10.0.0.5 is a trusted hop; 198.51.100.77 is the first address nobody vouches for. 1.2.3.4 is the visitor's claim.
        Assert.Equal("198.51.100.77", seen.Header("X-Forwarded-For"));
        Assert.Equal("FR-IDF", seen.Header("X-Forwarded-CountryRegion"));
    }

    [Theory]
    [InlineData("Cloudflare")]
    [InlineData("GoogleLoadBalancer")]
    [InlineData("ReverseProxy")]
    public async Task Edge_headers_from_an_untrusted_peer_are_ignored(string edge)
    {
        var seen = await HitThroughAsync(
            new() { ["Gateway:ClientIdentity:Edge"] = edge, ["Gateway:ClientIdentity:TrustedProxies:0"] = "192.0.2.0/24", ["Gateway:ClientIdentity:TrustedProxies:1"] = "192.0.2.0/24" },
            ("CF-Connecting-IP", "203.0.113.1"), ("CF-IPCountry", "DE"), ("X-Forwarded-For", "203.0.113.2, 203.0.113.3"),
            ("X-Gclb-Country", "DE"), ("X-Forwarded-CountryRegion", "DE-BE"));

        Assert.Equal("127.0.0.1", seen.Header("X-Forwarded-For"));
        Assert.Null(seen.Header("X-Forwarded-CountryRegion"));
    }

    [Fact]
    public async Task Direct_edge_ignores_every_forwarding_header()
    {
        var seen = await HitThroughAsync(
            new(),
            ("CF-Connecting-IP", "203.0.113.1"), ("CF-IPCountry", "DE"), ("X-Forwarded-For", "203.0.113.2"), ("X-TagGateway-Client-IP", "203.0.113.3"));

        Assert.Equal("127.0.0.1", seen.Header("X-Forwarded-For"));
        Assert.Null(seen.Header("X-Forwarded-CountryRegion"));
    }

    [Theory]
    [InlineData("not-an-ip")]
    [InlineData("203.0.113.1, 203.0.113.2")]
    [InlineData("")]
    public async Task Malformed_client_ip_from_the_edge_falls_back_to_the_socket(string value)
    {
        var seen = await HitThroughAsync(
            new() { ["Gateway:ClientIdentity:Edge"] = "Cloudflare" },
            ("CF-Connecting-IP", value), ("CF-IPCountry", "DE"));

        Assert.Equal("127.0.0.1", seen.Header("X-Forwarded-For"));
    }
}
