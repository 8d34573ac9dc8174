using System.Text.Json;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Consent;

/// <summary>
/// Issue #12, row 3: <c>gcd=13l3l3R3l5l1</c> with <c>gcs=G1--</c>, the shape live traffic carries on sites without
/// consent mode. The undocumented upper-case letter reads as "not set", so the region default decides ad_user_data.
/// </summary>
public sealed class LiveConsentShapeTests
{
    private const string LiveConsent = "gcd=13l3l3R3l5l1&gcs=G1--";
    private const string Em = "em=tv.1~em.pmNhVhTqhRqh0tHrBHwqKyFHd5uSGQ8JhZG0vrsT6Rk";

    [Theory]
    [InlineData("US", "CA", true)]
    [InlineData("DE", null, false)]
    public async Task Undocumented_gcd_letter_lets_the_region_decide_user_data(string country, string? region, bool allowed)
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = GatewayInstance.Settings(upstream.Origin);
        settings["Gateway:ClientIdentity:Edge"] = "Cloudflare";
        await using var gateway = await GatewayInstance.StartAsync(settings);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/metrics/g/collect?v=2&tid=G-TEST1234&cid=1.2&en=purchase&{LiveConsent}&{Em}");
        request.Headers.TryAddWithoutValidation("CF-IPCountry", country);
        if (region is not null)
        {
            request.Headers.TryAddWithoutValidation("CF-Region-Code", region);
        }

        using var response = await gateway.Public.SendAsync(request);

        // Enhanced conversions: em reaches Google only where ad_user_data is granted (US-CA by default, not DE).
        var forwarded = Assert.Single(upstream.Requests).PathAndQuery;
        Assert.Equal(allowed, forwarded.Contains("em=tv.1", StringComparison.Ordinal));
        Assert.Contains(LiveConsent, forwarded, StringComparison.Ordinal);

        // The decision the CAPI sink reads for the same hit: user data allowed for every ad platform in US-CA, none in DE.
        var url = Uri.EscapeDataString($"?v=2&tid=G-TEST1234&en=purchase&{LiveConsent}");
        var explained = await gateway.Management.GetStringAsync($"/consent/explain?region={country}{(region is null ? "" : "-" + region)}&url={url}");
        using var json = JsonDocument.Parse(explained);
        var hit = json.RootElement.GetProperty("events")[0];
        var adUserData = hit.GetProperty("consent").EnumerateArray().Single(static c => c.GetProperty("type").GetString() == "ad_user_data");
        Assert.Equal("R", adUserData.GetProperty("unknownGcdLetter").GetString());
        Assert.Equal(allowed ? "granted" : "denied", adUserData.GetProperty("effective").GetString());
        Assert.Equal("region_default", adUserData.GetProperty("source").GetString());
        foreach (var destination in new[] { "GoogleAds", "Meta", "TikTok", "LinkedIn" })
        {
            var decision = hit.GetProperty("destinations").EnumerateArray().Single(d => d.GetProperty("name").GetString() == destination);
            Assert.Equal(allowed, decision.GetProperty("mayAttachUserData").GetBoolean());
        }
    }

    [Fact]
    public async Task Undocumented_gcd_letters_are_counted_by_letter_on_the_metrics_endpoint()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = GatewayInstance.Settings(upstream.Origin);
        settings["Gateway:ClientIdentity:Edge"] = "Cloudflare";
        await using var gateway = await GatewayInstance.StartAsync(settings);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/metrics/g/collect?v=2&tid=G-TEST1234&cid=1.2&en=page_view&{LiveConsent}");
        request.Headers.TryAddWithoutValidation("CF-IPCountry", "US");
        using var response = await gateway.Public.SendAsync(request);

        var metrics = await gateway.Management.GetStringAsync("/metrics");
        Assert.Contains("taggateway_consent_gcd_unknown_letters_total{letter=\"R\",type=\"ad_user_data\"} 1", metrics, StringComparison.Ordinal);
    }
}
