using System.Net;
using System.Text.Json;
using TagGateway.Capi.Redis.Tests.Infrastructure;

namespace TagGateway.Capi.Redis.Tests;

/// <summary>
/// Google Analytics gap-fill (issue #13) with two gateways on one real redis-server: the browser/server marks are
/// shared, so a browser hit through one instance cancels the backend twin posted to the other, whichever instance's
/// worker takes it.
/// </summary>
public sealed class GapFillTests
{
    // Long enough that the browser twin posted "inside the window" still is on a loaded CI machine (2 s was not once:
    // the twin was sent, not cancelled); the control event waits it out, so the test costs about twice this.
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(6);

    [SkippableFact]
    public async Task A_hit_through_one_gateway_cancels_the_backend_twin_posted_to_the_other()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var fake = await FakePlatforms.StartAsync();
        await using var mp = await FakeMeasurementProtocol.StartAsync();
        var prefix = "{g" + Guid.NewGuid().ToString("N")[..8] + "}:";
        await using var first = await CapiGateway.StartAsync(fake, Settings(fake, mp, redis, prefix, "gw-a"));
        await using var second = await CapiGateway.StartAsync(fake, Settings(fake, mp, redis, prefix, "gw-b"));

        // Browser first through A, backend through B.
        using (var hit = await first.SendHitAsync(Hit("R-1")))
        {
            Assert.Equal(HttpStatusCode.NoContent, hit.StatusCode);
        }

        await Task.Delay(300);
        await PostAsync(second, "R-1");

        // Backend through A, the browser's hit inside the window through B.
        await PostAsync(first, "R-2");
        using (var hit = await second.SendHitAsync(Hit("R-2")))
        {
            Assert.Equal(HttpStatusCode.NoContent, hit.StatusCode);
        }

        // A control nobody reported from the browser: the gap-fill does send.
        await PostAsync(second, "R-3");

        Assert.True(await Wait.UntilAsync(() => Cancelled(first, second) == 2), $"cancelled {Cancelled(first, second)}");
        Assert.True(await Wait.UntilAsync(() => mp.Events.Count == 1));
        await Task.Delay(Window);
        Assert.Equal("R-3", Assert.Single(mp.Events).TransactionId);
        Assert.Empty(mp.Rejections);
        Assert.Equal(2, fake.GaHits);
    }

    private static long Cancelled(CapiGateway a, CapiGateway b) => Count(a) + Count(b);

    private static long Count(CapiGateway gateway) =>
        gateway.GetJsonAsync("/capi/match-quality").GetAwaiter().GetResult().GetProperty("googleAnalyticsGapFill").GetProperty("cancelledByBrowser").GetInt64();

    private static string Hit(string transactionId) =>
        $"v=2&tid=G-TEST1234&cid=111.222&en=purchase&ep.transaction_id={transactionId}&cu=EUR&epn.value=5&gcs=G111";

    private static async Task PostAsync(CapiGateway gateway, string id)
    {
        var json = $$"""
            {"events":[{"event_name":"purchase","event_id":"{{id}}","transaction_id":"{{id}}","event_time":{{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}},
              "currency":"EUR","value":5,"client_id":"111.222","page_url":"https://shop.example/thanks",
              "consent":{"analytics_storage":"granted","ad_user_data":"granted","ad_personalization":"granted"},"region":"US"}]}
            """;
        using var response = await CapiGateway.PostEventsAsync(gateway.Public, json);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private static Dictionary<string, string?> Settings(FakePlatforms fake, FakeMeasurementProtocol mp, RedisServer redis, string prefix, string consumer)
    {
        var settings = fake.CapiSettings(TestKeys.TempStore(), meta: false, tiktok: false, linkedIn: false, google: false);
        foreach ((var key, var value) in mp.Settings(Window))
        {
            settings[key] = value;
        }

        settings["Capi:Store:Kind"] = "Redis";
        settings["Capi:Store:Redis:Configuration"] = redis.Configuration;
        settings["Capi:Store:Redis:KeyPrefix"] = prefix;
        settings["Capi:Store:Redis:ConsumerName"] = consumer;
        settings["Capi:Store:Redis:OperationTimeout"] = "00:00:01";
        settings["Capi:Store:Redis:SpillPath"] = TestKeys.TempStore();
        return settings;
    }
}
