using System.Net;
using System.Text.Json;
using TagGateway.Capi.Redis.Tests.Infrastructure;

namespace TagGateway.Capi.Redis.Tests;

/// <summary>Dead letters live in Redis: one instance dead-letters, any other lists and replays them.</summary>
public sealed class DeadLetterTests
{
    [SkippableFact]
    public async Task A_dead_letter_from_one_instance_is_listed_and_replayed_by_another_and_then_sent_once()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var fake = await FakePlatforms.StartAsync();
        fake.MetaTokenExpired = true;
        var settings = ScaleOutTests.Settings(fake, redis, "{dead}:");
        await using var first = await CapiGateway.StartAsync(fake, settings);
        settings["Capi:Store:Redis:SpillPath"] = TestKeys.TempStore();
        await using var second = await CapiGateway.StartAsync(fake, settings);

        string[] ids = ["L-1", "L-2", "L-3", "L-4", "L-5"];
        using (var posted = await CapiGateway.PostEventsAsync(first.Public, ScaleOutTests.Body(ids)))
        {
            Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);
        }

        // Meta's expired token is not retried: dead letters, visible from the other instance.
        Assert.True(await UntilAsync(async () => await DeadLetterCountAsync(second, "meta") == ids.Length), "no dead letters in Redis");
        Assert.True(await Wait.UntilAsync(() => fake.For("tiktok").Count() == ids.Length));
        Assert.Empty(fake.For("meta"));

        fake.MetaTokenExpired = false;
        using (var replay = await second.Management.PostAsync("/capi/dead-letters/replay?destination=meta", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        }

        Assert.True(await Wait.UntilAsync(() => fake.For("meta").Count() == ids.Length), $"meta has {fake.For("meta").Count()}");
        await Task.Delay(500);
        Assert.Equal(ids.Order(), fake.For("meta").Select(static e => e.EventId).Order());
        Assert.True(await UntilAsync(async () => await DeadLetterCountAsync(first, "meta") == 0), "dead letters left after the replay");
        Assert.Equal(ids.Length, fake.For("tiktok").Count());
    }

    private static async Task<int> DeadLetterCountAsync(CapiGateway gateway, string destination)
    {
        var list = await gateway.GetJsonAsync($"/capi/dead-letters?destination={destination}");
        return list.GetProperty("count").GetInt32();
    }

    private static async Task<bool> UntilAsync(Func<Task<bool>> condition)
    {
        var end = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < end)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(100);
        }

        return await condition();
    }
}
