using System.Net;
using System.Text;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Hits;

/// <summary>User-provided data in a batched body line is governed by that line's consent, as the URL's em is.</summary>
public sealed class BodyUserDataTests
{
    [Fact]
    public async Task A_body_line_em_is_removed_when_ad_user_data_is_not_granted_and_the_rest_is_byte_identical()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin));

        // No signal and no geolocation: the strict default, so user data may not ride along.
        using var response = await gateway.Public.PostAsync(
            "/metrics/g/collect?v=2&tid=G-TEST1234&cid=1.2",
            new StringContent("en=purchase&em=tv.1~em.c2VjcmV0&ep.transaction_id=T1\r\nen=scroll&_et=12\r\n"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("en=purchase&ep.transaction_id=T1\r\nen=scroll&_et=12\r\n", Encoding.UTF8.GetString(upstream.Last.Body));
        Assert.Equal(upstream.Last.Body.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), upstream.Last.Header("Content-Length"));
    }

    [Fact]
    public async Task A_body_line_em_is_kept_when_the_visitor_granted_ad_user_data()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin));
        const string body = "en=purchase&em=tv.1~em.c2VjcmV0&ep.transaction_id=T1\r\nen=scroll&_et=12";

        // gcd update letters 'v' (granted by an update) for every type, as a consent banner's "accept" sends.
        using var response = await gateway.Public.PostAsync("/metrics/g/collect?v=2&tid=G-TEST1234&cid=1.2&gcs=G111&gcd=13v3v3v3v5l1", new StringContent(body));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(body, Encoding.UTF8.GetString(upstream.Last.Body));
    }
}
