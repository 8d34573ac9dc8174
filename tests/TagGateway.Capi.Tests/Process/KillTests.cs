using System.Net;
using TagGateway.TestKit.Loopback;

namespace TagGateway.Capi.Tests.Process;

/// <summary>
/// The real gateway process (dotnet TagGateway.dll) killed with SIGKILL while it is delivering, then restarted on the
/// same store: every event it acknowledged with 202 reaches the platform, counted by event id.
/// </summary>
public sealed class KillTests : CapiFakesTest
{
    [Fact]
    public async Task A_kill_9_mid_delivery_loses_nothing_acknowledged_and_a_restart_resumes()
    {
        const int Events = 300;
        const int BatchSize = 20;
        Fake.Latency = TimeSpan.FromMilliseconds(120);
        var ports = LoopbackPorts.Distinct(2);
        var (publicPort, managementPort) = (ports[0], ports[1]);
        var settings = CapiGateway.GatewaySettings(Fake, publicPort, managementPort);
        foreach ((var key, var value) in Fake.CapiSettings(Store.Path, tiktok: false, linkedIn: false, google: false))
        {
            settings[key] = value;
        }

        settings["Capi:Meta:MaxBatchSize"] = BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Capi:MergeWindow"] = "00:00:00";

        var acknowledged = new HashSet<string>();
        await using (var first = await GatewayProcess.StartAsync(settings, publicPort, managementPort))
        {
            var pub = first.Public;
            for (var request = 0; request < Events / 50; request++)
            {
                var ids = Enumerable.Range(request * 50, 50).Select(static i => $"K-{i}").ToList();
                var events = string.Join(',', ids.Select(static id =>
                    $$"""{"event_name":"purchase","event_time":{{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}},"page_url":"https://shop.example/thanks","event_id":"{{id}}","transaction_id":"{{id}}","currency":"EUR","value":1,"user":{"email":"{{id}}@example.com","ip":"198.51.100.7","user_agent":"UA"},"consent":{"ad_storage":"granted","ad_user_data":"granted","ad_personalization":"granted"},"region":"US"}"""));
                using var response = await CapiGateway.PostEventsAsync(pub, $$"""{"events":[{{events}}]}""");
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                acknowledged.UnionWith(ids);
            }

            // Mid-delivery: some batches are through, most are not.
            Assert.True(await Wait.UntilAsync(() => Fake.For("meta").Count() >= 2 * BatchSize));
            await first.KillAsync();
        }

        var beforeRestart = Fake.For("meta").Select(static e => e.EventId).Distinct().Count();
        Assert.InRange(beforeRestart, 2 * BatchSize, Events - 1);

        await using (var second = await GatewayProcess.StartAsync(settings, publicPort, managementPort))
        {
            var all = await Wait.UntilAsync(() => Fake.For("meta").Select(static e => e.EventId).Distinct().Count() >= Events, TimeSpan.FromSeconds(60));
            await second.KillAsync();
            Assert.True(all, $"{Fake.For("meta").Select(static e => e.EventId).Distinct().Count()} of {Events} delivered");
        }

        var delivered = Fake.For("meta").Select(static e => e.EventId).ToList();
        Assert.Subset(delivered.ToHashSet(), acknowledged);
        Assert.Superset(acknowledged, delivered.ToHashSet());

        // At-least-once across a crash: only the batches in flight at the kill may be sent twice.
        var duplicates = delivered.Count - delivered.Distinct().Count();
        Assert.InRange(duplicates, 0, BatchSize * 2);
        Assert.Empty(Fake.Rejections);
    }
}
