using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TagGateway.Capi.Redis.Tests.Infrastructure;

namespace TagGateway.Capi.Redis.Tests;

/// <summary>
/// A gateway whose Redis is down from the start: hits are still forwarded, server-to-server events are accepted into
/// the bounded local spill until it is full, then refused with 503 (never accepted and lost), and everything
/// acknowledged is delivered once Redis is there.
/// </summary>
public sealed class OutageTests
{
    [SkippableFact]
    public async Task Without_Redis_events_fill_the_spill_then_get_503_and_all_acknowledged_ones_are_delivered_when_Redis_comes()
    {
        RedisServer.Require();
        await using var fake = await FakePlatforms.StartAsync();
        await using var redis = RedisServer.Create();
        var spill = TestKeys.TempStore();
        var settings = ScaleOutTests.Settings(fake, redis, "{outage}:");
        settings["Capi:Store:Redis:SpillPath"] = spill;
        settings["Capi:Store:Redis:SpillMaxBytes"] = "65536";
        settings["Capi:Store:Redis:OperationTimeout"] = "00:00:00.200";
        foreach (var key in settings.Keys.Where(static k => k.StartsWith("Capi:LinkedIn:Conversions", StringComparison.Ordinal) || (k.StartsWith("Capi:GoogleAds:", StringComparison.Ordinal) && k != "Capi:GoogleAds:BaseUrl")).ToList())
        {
            settings.Remove(key);
        }

        await using var gateway = await CapiGateway.StartAsync(fake, settings);

        // Google hits do not depend on Redis.
        using (var hit = await gateway.SendHitAsync("v=2&tid=G-TEST1234&cid=1.2&en=page_view"))
        {
            Assert.True(hit.IsSuccessStatusCode);
        }

        Assert.True(await Wait.UntilAsync(() => fake.GaHits == 1), "the hit was not forwarded without Redis");

        var acknowledged = new HashSet<string>();
        HttpResponseMessage? refusal = null;
        for (var request = 0; request < 200 && refusal is null; request++)
        {
            var ids = Enumerable.Range(request * 10, 10).Select(static i => $"S-{i}").ToList();
            var response = await CapiGateway.PostEventsAsync(gateway.Public, ScaleOutTests.Body(ids));
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                acknowledged.UnionWith(ids);
                response.Dispose();
            }
            else
            {
                refusal = response;
            }
        }

        using (refusal)
        {
            Assert.NotNull(refusal);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refusal.StatusCode);
            Assert.True(refusal.Headers.RetryAfter is not null, "503 without Retry-After");
        }

        // The spill held them on disk: more than a few requests' worth, less than the bound.
        Assert.InRange(acknowledged.Count, 30, 190);
        var spilled = Directory.EnumerateFiles(spill, "*.spill").Sum(static f => new FileInfo(f).Length);
        Assert.InRange(spilled, 1, 65536);
        Assert.Empty(fake.For("meta"));

        await redis.StartAgainAsync();
        var delivered = await Wait.UntilAsync(() => fake.For("meta").Select(static e => e.EventId).ToHashSet().SetEquals(acknowledged)
            && fake.For("tiktok").Select(static e => e.EventId).ToHashSet().SetEquals(acknowledged), TimeSpan.FromSeconds(30));
        Assert.True(delivered, $"meta has {fake.For("meta").Count()} of {acknowledged.Count}");
        Assert.Equal(acknowledged.Count, fake.For("meta").Count());
        Assert.Equal(acknowledged.Count, fake.For("tiktok").Count());
        Assert.True(await Wait.UntilAsync(() => !Directory.EnumerateFiles(spill, "*.spill").Any()), "the spill was not emptied");

        // Redis is back: accepted again, straight into Redis.
        using var again = await CapiGateway.PostEventsAsync(gateway.Public, ScaleOutTests.Body(["S-after"]));
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.True(await Wait.UntilAsync(() => fake.For("meta").Any(static e => e.EventId == "S-after")));
        var store = await gateway.GetJsonAsync("/capi/store");
        Assert.Equal(0, store.GetProperty("bytes").GetInt64());
        Assert.Empty(fake.Rejections);
    }

    [SkippableFact]
    public async Task The_ledger_is_shared_a_duplicate_posted_to_another_instance_is_not_sent_again()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var fake = await FakePlatforms.StartAsync();
        var settings = ScaleOutTests.Settings(fake, redis, "{ledger}:");
        settings["Capi:MergeWindow"] = "00:00:00.300";
        await using var first = await CapiGateway.StartAsync(fake, settings);
        settings["Capi:Store:Redis:SpillPath"] = TestKeys.TempStore();
        await using var second = await CapiGateway.StartAsync(fake, settings);

        using (var a = await CapiGateway.PostEventsAsync(first.Public, ScaleOutTests.Body(["D-1"])))
        {
            Assert.Equal(HttpStatusCode.Accepted, a.StatusCode);
        }

        Assert.True(await Wait.UntilAsync(() => fake.For("meta").Any()));
        using var b = await CapiGateway.PostEventsAsync(second.Public, ScaleOutTests.Body(["D-1"]));
        Assert.Equal(HttpStatusCode.Accepted, b.StatusCode);
        var answer = await b.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("duplicate", answer.GetRawText(), StringComparison.Ordinal);
        await Task.Delay(1000);
        Assert.Single(fake.For("meta"));
        Assert.Single(fake.For("tiktok"));
    }
}
