using Microsoft.Extensions.Configuration;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.ClientIdentity;

/// <summary>
/// Issue #17 (smaller): a hostile <c>Host</c> must not choose the identifier cookies' <c>Domain</c>. Only the site's
/// hosts name one: those configured in <c>Gateway:SiteHosts</c>, or, when none are, a host a trusted edge passes on.
/// Anything else gets host-only cookies (no <c>Domain</c>), which a browser scopes to the host it really asked.
/// </summary>
public sealed class SiteHostTests
{
    private const string Secret = "0123456789abcdef-worker-secret";
    private const string GrantedHit = "/metrics/g/collect?v=2&tid=G-TEST1234&gcs=G111&gcd=13v3v3v3v5";
    private const string Ga = "_ga=GA1.1.1162820436.1749482504";

    /// <summary>The <c>_ga</c> Set-Cookie line a granted hit re-issues, sent with the given Host and extra headers.</summary>
    private static async Task<string> ReissuedGaAsync(Dictionary<string, string?> extraSettings, string host, params (string Name, string Value)[] headers)
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = GatewayInstance.Settings(upstream.Origin);
        foreach (var (key, value) in extraSettings)
        {
            settings[key] = value;
        }

        await using var gateway = await GatewayInstance.StartAsync(settings);
        using var request = new HttpRequestMessage(HttpMethod.Get, GrantedHit);
        request.Headers.Host = host;
        request.Headers.TryAddWithoutValidation("Cookie", Ga);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await gateway.Public.SendAsync(request);
        response.EnsureSuccessStatusCode();
        Assert.Single(upstream.Requests);
        var cookies = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToArray() : [];
        return Assert.Single(cookies, c => c.StartsWith(Ga + ";", StringComparison.Ordinal));
    }

    private static string? DomainOf(string setCookie) =>
        setCookie.Split("; ").FirstOrDefault(a => a.StartsWith("Domain=", StringComparison.Ordinal))?["Domain=".Length..];

    [Theory]
    [InlineData("evil.example")]
    [InlineData("shop.example.co.uk")]
    [InlineData("www.shop.example:8080")]
    public async Task Without_SiteHosts_a_Host_from_an_untrusted_peer_names_no_domain(string host)
    {
        var setCookie = await ReissuedGaAsync(new(), host);

        Assert.Null(DomainOf(setCookie));
        Assert.Equal(Ga + "; Path=/; Max-Age=34560000; SameSite=Lax", setCookie);
    }

    [Theory]
    [InlineData("www.example.com", "example.com")]
    [InlineData("example.com", "example.com")]
    [InlineData("WWW.Example.COM:8443", "example.com")]
    [InlineData("a.b.example.com", "example.com")]
    [InlineData("evil.example", null)]
    [InlineData("example.com.evil.example", null)]
    [InlineData("notexample.com", null)]
    [InlineData("shop.example.co.uk", null)]
    [InlineData("[::1]:8080", null)]
    [InlineData("127.0.0.1", null)]
    public async Task Configured_SiteHosts_are_the_only_hosts_that_name_a_domain(string host, string? expectedDomain)
    {
        var setCookie = await ReissuedGaAsync(new() { ["Gateway:SiteHosts:0"] = "example.com" }, host);

        Assert.Equal(expectedDomain, DomainOf(setCookie));
    }

    [Theory]
    [InlineData("shop.example.co.uk", "example.co.uk")]
    [InlineData("www.example.co.uk", null)]
    public async Task An_exact_site_host_names_its_registrable_domain_and_admits_no_sibling(string host, string? expectedDomain)
    {
        var setCookie = await ReissuedGaAsync(new() { ["Gateway:SiteHosts:0"] = "shop.example.co.uk", ["Gateway:SiteHosts:1"] = "other.example" }, host);

        Assert.Equal(expectedDomain, DomainOf(setCookie));
    }

    [Fact]
    public async Task Worker_host_is_learned_from_the_trusted_edge_when_SiteHosts_is_unset()
    {
        var setCookie = await ReissuedGaAsync(
            new() { ["Gateway:ClientIdentity:Edge"] = "CloudflareWorker", ["Gateway:ClientIdentity:EdgeSecret"] = Secret },
            "origin.internal",
            ("X-TagGateway-Host", "www.shop.example.com"), ("X-TagGateway-Secret", Secret));

        Assert.Equal("example.com", DomainOf(setCookie));
    }

    [Theory]
    [InlineData("CloudflareWorker", "X-TagGateway-Host")]
    [InlineData("ReverseProxy", "X-Forwarded-Host")]
    public async Task Forwarded_host_from_an_untrusted_peer_names_no_domain(string edge, string header)
    {
        var setCookie = await ReissuedGaAsync(
            new()
            {
                ["Gateway:ClientIdentity:Edge"] = edge,
                ["Gateway:ClientIdentity:EdgeSecret"] = Secret,
                ["Gateway:ClientIdentity:TrustedProxies:0"] = "192.0.2.0/24",
            },
            "evil.example",
            (header, "www.evil.example"), ("X-TagGateway-Secret", Secret));

        Assert.Null(DomainOf(setCookie));
    }

    [Fact]
    public async Task Worker_without_the_secret_names_no_domain()
    {
        var setCookie = await ReissuedGaAsync(
            new() { ["Gateway:ClientIdentity:Edge"] = "CloudflareWorker", ["Gateway:ClientIdentity:EdgeSecret"] = Secret },
            "evil.example",
            ("X-TagGateway-Host", "www.evil.example"), ("X-TagGateway-Secret", "0123456789abcdef-wrong-secret!"));

        Assert.Null(DomainOf(setCookie));
    }

    [Fact]
    public async Task Configured_SiteHosts_bound_even_a_trusted_edge()
    {
        var setCookie = await ReissuedGaAsync(
            new() { ["Gateway:ClientIdentity:Edge"] = "ReverseProxy", ["Gateway:SiteHosts:0"] = "example.com" },
            "www.example.com",
            ("X-Forwarded-Host", "www.evil.example"));

        Assert.Null(DomainOf(setCookie));
    }

    [Fact]
    public async Task Reverse_proxy_forwarded_host_inside_SiteHosts_names_its_domain()
    {
        var setCookie = await ReissuedGaAsync(
            new() { ["Gateway:ClientIdentity:Edge"] = "ReverseProxy", ["Gateway:SiteHosts:0"] = "example.com" },
            "127.0.0.1:8080",
            ("X-Forwarded-Host", "www.example.com"));

        Assert.Equal("example.com", DomainOf(setCookie));
    }

    [Fact]
    public async Task A_fixed_cookie_domain_is_operator_configuration_and_stays()
    {
        var setCookie = await ReissuedGaAsync(new() { ["Cookies:Domain"] = "example.com" }, "evil.example");

        Assert.Equal("example.com", DomainOf(setCookie));
    }

    [Theory]
    [InlineData("https://www.example.com")]
    [InlineData("www.example.com:443")]
    [InlineData("*.example.com")]
    [InlineData("www.example.com/")]
    [InlineData("exa mple.com")]
    [InlineData("-bad.example.com")]
    [InlineData("192.0.2.1")]
    [InlineData("")]
    public void A_site_host_that_is_not_a_host_name_stops_the_start(string value)
    {
        var settings = GatewayInstance.Settings(new Uri("http://127.0.0.1:1"));
        settings["Gateway:SiteHosts:0"] = value;

        var error = Assert.Throws<GatewayConfigurationException>(() => GatewayHost.Create([], b => b.Configuration.AddInMemoryCollection(settings)));

        Assert.Contains(error.Errors, e => e.Contains("Gateway:SiteHosts:0", StringComparison.Ordinal));
    }
}
