using System.Net;
using Microsoft.AspNetCore.Http;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Hits;

/// <summary>
/// Which tag IDs pass: scripts only for this site's tags (configured, or named by a configured container), hits for
/// any well-formed Google destination ID, since the upstream is fixed by configuration and a hit's tid chooses nothing.
/// </summary>
public sealed class TagIdPolicyTests
{
    // What a GTM container that deploys a Google tag (G-) and an Ads conversion tag (AW-) carries, in the quoting
    // Google's container JavaScript uses.
    private const string Container = """
        var data = {"resource":{"version":"7","macros":[{"function":"__c","vtp_value":"G-CONTAINER1"}],
        "tags":[{"function":"__googtag","vtp_tagId":"G-CONTAINER1"},{"function":"__awct","vtp_conversionId":"AW-123456789"},
        {"function":"__html","vtp_html":"xG-NOTANID1 and 'DC-FLOOD123'"}]}};
        """;

    [Fact]
    public async Task A_GTM_only_site_serves_and_forwards_every_destination_its_container_loads()
    {
        await using var upstream = await FakeUpstream.StartAsync(static (context, recorded) =>
        {
            context.Response.ContentType = "application/javascript";
            context.Response.Headers.CacheControl = "private, max-age=900";
            return context.Response.WriteAsync(recorded.PathAndQuery.Contains("gtm.js", StringComparison.Ordinal) ? Container : "/* gtag */");
        });
        var settings = GatewayInstance.Settings(upstream.Origin, "GTM-ONLY123");
        settings.Remove("Gateway:TagIds:1");
        await using var gateway = await GatewayInstance.StartAsync(settings);

        // Before the container was seen, its Google tag is not ours to serve.
        using (var early = await gateway.Public.GetAsync("/metrics/gtag/js?id=G-CONTAINER1"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, early.StatusCode);
        }

        using (var container = await gateway.Public.GetAsync("/metrics/gtm.js?id=GTM-ONLY123"))
        {
            Assert.Equal(HttpStatusCode.OK, container.StatusCode);
        }

        foreach (var script in new[] { "/metrics/gtag/js?id=G-CONTAINER1&l=dataLayer&cx=c", "/metrics/gtag/destination?id=AW-123456789&l=dataLayer&cx=c", "/metrics/gtag/destination?id=DC-FLOOD123" })
        {
            using var response = await gateway.Public.GetAsync(script);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{script}: {(int)response.StatusCode}");
        }

        // A script for an ID the container does not name (even one it mentions unquoted) stays refused.
        foreach (var script in new[] { "/metrics/gtag/js?id=G-NOTNAMED1", "/metrics/gtag/js?id=G-NOTANID1" })
        {
            using var refused = await gateway.Public.GetAsync(script);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        // Hits of every destination go through, named by the container or not.
        var before = upstream.Count;
        foreach (var hit in new[]
        {
            "/metrics/ag/g/c?v=2&tid=G-CONTAINER1&cid=1.2&en=page_view",
            "/metrics/gs/ccm/collect?en=page_view&tid=AW-123456789&gcs=G111",
            "/metrics/g/d/ccm/conversion/123456789/?random=1&en=conversion",
            "/metrics/g/collect?v=2&tid=G-SECOND999&cid=1.2&en=page_view",
        })
        {
            using var response = await gateway.Public.GetAsync(hit);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{hit}: {(int)response.StatusCode}");
        }

        Assert.Equal(before + 4, upstream.Count);
    }

    [Theory]
    [InlineData("/metrics/g/collect?v=2&tid=evil.example&en=page_view")]
    [InlineData("/metrics/g/collect?v=2&tid=G-TEST1234&tid=G-OTHER999&en=page_view")]
    [InlineData("/metrics/g/collect?v=2&TID=G-OTHER999&en=page_view")]
    [InlineData("/metrics/g/collect?v=2&%74id=G-OTHER999&en=page_view")]
    [InlineData("/metrics/g/collect?v=2&tid[]=G-OTHER999&en=page_view")]
    public async Task A_malformed_or_ambiguous_destination_id_is_refused_before_anything_goes_upstream(string target)
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin));

        // Raw bytes: HttpClient would unescape %74 before it reached the gateway.
        var status = await gateway.SendRawAsync($"GET {target} HTTP/1.1\r\nHost: shop.example.com\r\nConnection: close\r\n\r\n");

        Assert.Equal(400, status);
        Assert.Equal(0, upstream.Count);
    }

    [Theory]
    [InlineData("en=page_view&tid=EVIL")]
    [InlineData("en=page_view&tid=G-OTHER999&tid=G-OTHER998")]
    [InlineData("en=page_view&Tid=G-OTHER999")]
    public async Task A_tid_only_in_the_batched_body_is_checked_too(string line)
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin));

        using var response = await gateway.Public.PostAsync("/metrics/g/collect?v=2&tid=G-TEST1234&cid=1.2", new StringContent("en=scroll\r\n" + line));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, upstream.Count);
    }
}
