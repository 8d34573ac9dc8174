using Microsoft.AspNetCore.Http;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Hits;

/// <summary>A GA4 conversion that came by a tag gateway's short path reaches the conversion APIs its consent allows.</summary>
public sealed class CapiHandOffTests : IAsyncLifetime
{
    private static string Purchase(string transaction) =>
        $"v=2&tid=G-TEST1234&cid=123.456&en=purchase&ep.transaction_id=T-{transaction}&epn.value=42&cu=EUR&gcs=G111&gcd=13v3v3v3v5l1";

    private MetaCapiSite _site = null!;
    private FakeUpstream _meta = null!;
    private GatewayInstance _gateway = null!;

    public async Task InitializeAsync()
    {
        _site = await MetaCapiSite.StartAsync("handoff");
        _meta = _site.Meta;
        _gateway = _site.Gateway;
    }

    [Theory]
    [InlineData("/metrics/ag/g/c")]
    [InlineData("/metrics/ga/g/c")]
    [InlineData("/metrics/g/collect")]
    public async Task A_consented_purchase_on_any_GA4_path_reaches_Meta(string path)
    {
        var transaction = Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Post, path + "?" + Purchase(transaction) + "&dl=https%3A%2F%2Fshop.example.com%2Fthanks");
        request.Headers.TryAddWithoutValidation("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0");
        request.Content = new ByteArrayContent([]);
        using var response = await _gateway.Public.SendAsync(request);

        Assert.Equal(System.Net.HttpStatusCode.NoContent, response.StatusCode);
        for (var i = 0; i < 200 && !_meta.Requests.Any(r => System.Text.Encoding.UTF8.GetString(r.Body).Contains(transaction, StringComparison.Ordinal)); i++)
        {
            await Task.Delay(50);
        }

        Assert.Contains(_meta.Requests, r => System.Text.Encoding.UTF8.GetString(r.Body).Contains(transaction, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_hit_without_user_agent_is_not_sent_to_Meta_and_the_drop_is_counted()
    {
        var transaction = Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics/ag/g/c?" + Purchase(transaction) + "&dl=https%3A%2F%2Fshop.example.com%2Fthanks");
        using var response = await _gateway.Public.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, response.StatusCode);

        var dropped = false;
        for (var i = 0; i < 200 && !dropped; i++)
        {
            await Task.Delay(50);
            var metrics = await _gateway.Management.GetStringAsync("/metrics");
            dropped = metrics.Contains("reason=\"missing_website_fields\"", StringComparison.Ordinal);
        }

        Assert.True(dropped, "no missing_website_fields drop counted");
        Assert.DoesNotContain(_meta.Requests, r => System.Text.Encoding.UTF8.GetString(r.Body).Contains(transaction, StringComparison.Ordinal));
    }

    public Task DisposeAsync() => _site.DisposeAsync().AsTask();
}
