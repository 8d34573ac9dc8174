using System.Net;
using System.Text;
using System.Text.Json;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Consent;

/// <summary>The consent layer wired into the host: each forwarded event decided and counted, explained on the management listener.</summary>
public sealed class HitConsentTests
{
    [Fact]
    public async Task Each_event_of_a_batched_hit_is_decided_with_its_own_line_over_the_url()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = GatewayInstance.Settings(upstream.Origin);
        settings["Gateway:ClientIdentity:Edge"] = "Cloudflare";
        await using var gateway = await GatewayInstance.StartAsync(settings);

        // URL: everything granted. Line 2 overrides with everything denied.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/metrics/g/collect?v=2&tid=G-TEST1234&cid=1.2&gcs=G111&gcd=13v3v3v3v5")
        {
            Content = new StringContent("en=page_view\r\nen=purchase&gcs=G100&gcd=13q3q3q3q5\r\n", Encoding.ASCII, "text/plain"),
        };
        request.Headers.TryAddWithoutValidation("CF-IPCountry", "DE");
        using var response = await gateway.Public.SendAsync(request);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

        var metrics = await gateway.Management.GetStringAsync("/metrics");

        // page_view inherits the URL's grants; purchase carries its own denial: cookieless for Google, nothing for Meta.
        Assert.Contains("taggateway_consent_decisions_total{destination=\"GoogleAnalytics\",outcome=\"full\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("taggateway_consent_decisions_total{destination=\"GoogleAnalytics\",outcome=\"cookieless\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("taggateway_consent_decisions_total{destination=\"Meta\",outcome=\"full\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("taggateway_consent_decisions_total{destination=\"Meta\",outcome=\"blocked\"} 1", metrics, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gcs=G111&gcd=13v3v3v3v5", true)]
    [InlineData("gcs=G111&gcd=13v3v3q3v5", false)]
    [InlineData("gcs=G100&gcd=13q3q3q3q5", false)]
    public async Task User_provided_data_reaches_Google_only_with_ad_user_data_granted(string consent, bool kept)
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin));

        using var response = await gateway.Public.GetAsync($"/metrics/g/collect?v=2&tid=G-TEST1234&{consent}&em=tv.1~em.pmNhVhTqhRqh0tHrBHwqKyFHd5uSGQ8JhZG0vrsT6Rk&en=purchase");

        var forwarded = Assert.Single(upstream.Requests).PathAndQuery;
        Assert.Equal(kept, forwarded.Contains("em=tv.1", StringComparison.Ordinal));
        Assert.Contains("en=purchase", forwarded, StringComparison.Ordinal);
        Assert.Contains(consent, forwarded, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Explain_endpoint_is_on_the_management_listener_only()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin));
        var url = Uri.EscapeDataString("https://shop.example/metrics/g/collect?v=2&tid=G-TEST1234&gcs=G100&gcd=13p3p3p3p5");

        using var management = await gateway.Management.GetAsync($"/consent/explain?url={url}&region=FR");
        using var publicListener = await gateway.Public.GetAsync($"/consent/explain?url={url}&region=FR");

        Assert.Equal(HttpStatusCode.OK, management.StatusCode);
        using var json = JsonDocument.Parse(await management.Content.ReadAsStringAsync());
        Assert.Contains("denied", json.RootElement.GetRawText(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal(HttpStatusCode.NotFound, publicListener.StatusCode);
    }
}
