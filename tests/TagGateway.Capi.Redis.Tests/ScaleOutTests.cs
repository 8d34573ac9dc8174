using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using TagGateway.Capi.Redis.Tests.Infrastructure;

namespace TagGateway.Capi.Redis.Tests;

/// <summary>
/// Several real gateway processes (dotnet TagGateway.dll) sharing one real redis-server: the queue and the dedup
/// ledger are shared, an instance killed with SIGKILL mid-delivery loses nothing, and a Redis killed and restarted
/// mid-run loses nothing acknowledged. Counted per event id at the platform fakes.
/// </summary>
public sealed class ScaleOutTests
{
    private static readonly string[] Platforms = ["meta", "tiktok", "linkedin", "google"];

    [SkippableFact]
    public async Task Three_instances_share_the_queue_and_a_kill_9_mid_delivery_still_delivers_every_event_exactly_once_per_platform()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var fake = await FakePlatforms.StartAsync();
        await using var front = await PlatformFront.StartAsync(fake);
        front.AnswerDelay = TimeSpan.FromMilliseconds(250);
        var prefix = "{t" + Guid.NewGuid().ToString("N")[..8] + "}:";
        var gateways = await Task.WhenAll(Enumerable.Range(0, 3).Select(i =>
        {
            var settings = Settings(fake, redis, prefix, front.Url);
            settings["Capi:Store:Redis:ConsumerName"] = $"gw-{i}";
            return GatewayProcess.StartAsync(fake, settings);
        }));
        try
        {
            const int Events = 360, PerRequest = 12;
            var acknowledged = new HashSet<string>();
            var perInstance = new int[3];
            for (var request = 0; request < Events / PerRequest; request++)
            {
                // Round robin, as a load balancer spreads a site's backend calls.
                var instance = request % 3;
                var ids = Enumerable.Range(request * PerRequest, PerRequest).Select(static i => $"R-{i}").ToList();
                using var response = await CapiGateway.PostEventsAsync(gateways[instance].Public, Body(ids));
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                acknowledged.UnionWith(ids);
                perInstance[instance] += ids.Count;
            }

            Assert.All(perInstance, static n => Assert.Equal(Events / 3, n));

            // Mid-delivery: every platform has some events, none has all; answers take 250 ms, so each instance has
            // batches on the wire (processed by the platform, not yet acknowledged to the gateway).
            Assert.True(await Wait.UntilAsync(() => Platforms.All(p => fake.For(p).Count() >= 24)), "delivery did not start");
            // Answers are held for three seconds (under the 5 s attempt timeout, so nobody retries). Within it every
            // worker of gw-1 that has work reads a batch, marks it, sends it and then waits for the held answer: killed
            // then, gw-1 has batches the platforms processed and it never acknowledged. (Killed at the moment it reads,
            // it would be inside the window the store documents: marked, not yet sent.)
            front.HoldUntil = DateTime.UtcNow.AddSeconds(3);
            Assert.True(await PendingUntilAsync(redis, prefix, "gw-1", TimeSpan.FromSeconds(1)), "gw-1 sent nothing");
            await Task.Delay(TimeSpan.FromMilliseconds(700));
            var atKillProbe = fake.For("meta").Count();
            await gateways[1].KillAsync();

            // What the killed instance held (read, or sent and not yet acknowledged) is left to the others.
            var orphaned = 0;
            foreach (var stream in (string[])["meta", "tiktok", "linkedin", "google_ads"])
            {
                orphaned += await redis.PendingAsync(prefix + "s:" + stream, "gw-1");
            }

            Assert.True(orphaned > 0, $"the kill did not land mid-delivery (meta had {atKillProbe} of {Events})");
            var atKill = fake.For("meta").Count();
            Assert.InRange(atKill, 24, Events - 1);

            // The survivors claim the dead one's entries once they are ClaimIdle old, and deliver them.
            var complete = await Wait.UntilAsync(() => Platforms.All(p => fake.For(p).Select(static e => e.EventId).ToHashSet().IsSupersetOf(acknowledged)), TimeSpan.FromSeconds(60));
            var uncertain = await UncertainAsync(gateways[0]);
            Assert.True(complete, Missing(fake, acknowledged) + $"; {uncertain.Count} dead-lettered as uncertain: "
                + string.Join(", ", uncertain.Select(static u => u.GetProperty("destination").GetString() + "/" + u.GetProperty("eventId").GetString())));

            // Late double sends would come from claims: wait past another claim period before counting.
            await Task.Delay(TimeSpan.FromSeconds(5));
            foreach (var platform in Platforms)
            {
                var counts = fake.For(platform).GroupBy(static e => e.EventId).ToDictionary(static g => g.Key, static g => g.Count());
                Assert.Equal(acknowledged.Order(), counts.Keys.Order());
                Assert.True(counts.Values.All(static c => c == 1), $"{platform}: sent more than once: " + string.Join(", ", counts.Where(static kv => kv.Value > 1).Select(static kv => kv.Key + " x" + kv.Value)));
            }

            // What the dead instance was sending is dead-lettered as uncertain, never resent: the platforms have each once.
            foreach (var letter in uncertain)
            {
                var platform = letter.GetProperty("destination").GetString() == "google_ads" ? "google" : letter.GetProperty("destination").GetString()!;
                Assert.Contains(letter.GetProperty("eventId").GetString()!, fake.For(platform).Select(static e => e.EventId));
            }

            // The survivors did take over the dead one's pending entries (claimed or resolved as uncertain).
            var survivorLog = gateways[0].Output.Concat(gateways[2].Output).ToList();
            Assert.True(survivorLog.Any(static line => line.Contains("claimed", StringComparison.Ordinal)), string.Join('\n', survivorLog.Where(static l => l.Contains("CAPI", StringComparison.Ordinal))));
            Assert.Empty(fake.Rejections);
            var store = await gateways[0].Management.GetFromJsonAsync<JsonElement>("/capi/store");
            Assert.All(store.GetProperty("pending").EnumerateObject(), static p => Assert.Equal(0, p.Value.GetInt32()));
        }
        finally
        {
            foreach (var gateway in gateways)
            {
                await gateway.DisposeAsync();
            }
        }
    }

    [SkippableFact]
    public async Task Redis_killed_and_restarted_mid_run_loses_nothing_acknowledged()
    {
        await using var redis = await RedisServer.StartAsync();
        await using var fake = await FakePlatforms.StartAsync();
        fake.Latency = TimeSpan.FromMilliseconds(100);
        var prefix = "{t" + Guid.NewGuid().ToString("N")[..8] + "}:";
        var gateways = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => GatewayProcess.StartAsync(fake, Settings(fake, redis, prefix))));
        try
        {
            var acknowledged = new HashSet<string>();
            int next = 0, refused = 0, duringOutage = 0;
            async Task PostAsync(int requests, bool outage)
            {
                for (var request = 0; request < requests; request++)
                {
                    var ids = Enumerable.Range(next, 10).Select(static i => $"O-{i}").ToList();
                    next += 10;
                    using var response = await CapiGateway.PostEventsAsync(gateways[request % 2].Public, Body(ids));
                    if (response.StatusCode == HttpStatusCode.Accepted)
                    {
                        acknowledged.UnionWith(ids);
                        duringOutage += outage ? ids.Count : 0;
                    }
                    else
                    {
                        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                        refused++;
                    }
                }
            }

            await PostAsync(12, outage: false);
            Assert.True(await Wait.UntilAsync(() => fake.For("meta").Any()), "delivery did not start");

            // SIGKILL of Redis mid-delivery: only its append-only file (fsync'd per write) survives.
            await redis.KillAsync();
            await PostAsync(12, outage: true);

            // The gateways still forward Google hits while Redis is down.
            using (var hit = new HttpRequestMessage(HttpMethod.Post, "/metrics/g/collect?v=2&tid=G-TEST1234&cid=1.2&en=page_view"))
            {
                hit.Headers.TryAddWithoutValidation("User-Agent", "Mozilla/5.0 Test/1.0");
                var before = fake.GaHits;
                using var forwarded = await gateways[0].Public.SendAsync(hit);
                Assert.True(forwarded.IsSuccessStatusCode, $"hit answered {(int)forwarded.StatusCode}");
                Assert.True(await Wait.UntilAsync(() => fake.GaHits > before), "the hit was not forwarded during the outage");
            }

            await Task.Delay(TimeSpan.FromSeconds(1));
            await redis.StartAgainAsync();
            await PostAsync(12, outage: false);

            Assert.Equal(0, refused);
            Assert.Equal(120, duringOutage);
            var complete = await Wait.UntilAsync(() => Platforms.All(p => fake.For(p).Select(static e => e.EventId).ToHashSet().IsSupersetOf(acknowledged)), TimeSpan.FromSeconds(45));
            Assert.True(complete, Missing(fake, acknowledged));
            await Task.Delay(TimeSpan.FromSeconds(2));
            foreach (var platform in Platforms)
            {
                var counts = fake.For(platform).GroupBy(static e => e.EventId).ToDictionary(static g => g.Key, static g => g.Count());
                Assert.Equal(acknowledged.Order(), counts.Keys.Order());
                Assert.True(counts.Values.All(static c => c == 1), $"{platform}: sent more than once: " + string.Join(", ", counts.Where(static kv => kv.Value > 1).Select(static kv => kv.Key + " x" + kv.Value)));
            }

            Assert.Empty(await UncertainAsync(gateways[0]));
            Assert.Empty(fake.Rejections);
            Assert.Contains(gateways[0].Output.Concat(gateways[1].Output), static line => line.Contains("spill drained", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var gateway in gateways)
            {
                await gateway.DisposeAsync();
            }
        }
    }

    internal static Dictionary<string, string?> Settings(FakePlatforms fake, RedisServer redis, string prefix, string? platforms = null)
    {
        var settings = fake.CapiSettings(TestKeys.TempStore());
        if (platforms is not null)
        {
            foreach (var destination in (string[])["Meta", "TikTok", "LinkedIn", "GoogleAds"])
            {
                settings[$"Capi:{destination}:BaseUrl"] = platforms;
            }
        }

        settings["Capi:Store:Kind"] = "Redis";
        settings["Capi:Store:Redis:Configuration"] = redis.Configuration;
        settings["Capi:Store:Redis:KeyPrefix"] = prefix;
        settings["Capi:Store:Redis:ClaimIdle"] = "00:00:04";
        settings["Capi:Store:Redis:ConsumerTtl"] = "00:00:03";
        settings["Capi:Store:Redis:OperationTimeout"] = "00:00:00.500";
        settings["Capi:Store:Redis:SpillPath"] = TestKeys.TempStore();
        settings["Capi:MergeWindow"] = "00:00:00";
        foreach (var destination in (string[])["Meta", "TikTok", "LinkedIn", "GoogleAds"])
        {
            settings[$"Capi:{destination}:MaxBatchSize"] = "10";
        }

        settings["Logging:LogLevel:TagGateway.Capi.Storage.Redis"] = "Information";
        return settings;
    }

    internal static string Body(IEnumerable<string> ids) =>
        "{\"events\":[" + string.Join(',', ids.Select(static id =>
            $$"""{"event_name":"purchase","event_time":{{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}},"page_url":"https://shop.example/thanks","event_id":"{{id}}","transaction_id":"{{id}}","currency":"EUR","value":1,"user":{"email":"{{id}}@example.com","ip":"198.51.100.7","user_agent":"UA"},"consent":{"ad_storage":"granted","ad_user_data":"granted","ad_personalization":"granted"},"region":"US"}""")) + "]}";

    private static async Task<bool> PendingUntilAsync(RedisServer redis, string prefix, string consumer, TimeSpan timeout)
    {
        var end = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < end)
        {
            foreach (var stream in (string[])["meta", "tiktok", "linkedin", "google_ads"])
            {
                if (await redis.PendingAsync(prefix + "s:" + stream, consumer) > 0)
                {
                    return true;
                }
            }

            await Task.Delay(10);
        }

        return false;
    }

    private static async Task<List<JsonElement>> UncertainAsync(GatewayProcess gateway)
    {
        var list = await gateway.Management.GetFromJsonAsync<JsonElement>("/capi/dead-letters?limit=10000");
        return [.. list.GetProperty("deadLetters").EnumerateArray().Where(static l => l.GetProperty("error").GetString()!.StartsWith("uncertain", StringComparison.Ordinal))];
    }

    private static string Missing(FakePlatforms fake, HashSet<string> acknowledged) =>
        string.Join("; ", Platforms.Select(p => $"{p}: {acknowledged.Except(fake.For(p).Select(static e => e.EventId)).Count()} of {acknowledged.Count} missing"))
        + string.Create(CultureInfo.InvariantCulture, $"; rejections: {string.Join(" | ", fake.Rejections.Take(3))}");
}
