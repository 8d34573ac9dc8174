using System.Net;
using TagGateway.Capi.Tests.GapFill;
using TagGateway.TestKit.Loopback;

namespace TagGateway.Capi.Tests.Process;

/// <summary>
/// The real gateway process killed with SIGKILL while a Google Analytics gap-fill event waits for its window: after a
/// restart on the same journal it is sent once, and a browser hit recorded before the kill still cancels its twin.
/// </summary>
public sealed class GapFillKillTests() : CapiFakesTest(measurementProtocol: true)
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(4);

    [Fact]
    public async Task A_kill_9_while_waiting_sends_it_once_after_restart_and_a_recorded_browser_hit_still_cancels()
    {
        var ports = LoopbackPorts.Distinct(2);
        var (publicPort, managementPort) = (ports[0], ports[1]);
        var settings = CapiGateway.GatewaySettings(Fake, publicPort, managementPort);
        foreach ((var key, var value) in Fake.CapiSettings(Store.Path, meta: false, tiktok: false, linkedIn: false, google: false))
        {
            settings[key] = value;
        }

        foreach ((var key, var value) in Mp.Settings(Window))
        {
            settings[key] = value;
        }

        await using (var first = await GatewayProcess.StartAsync(settings, publicPort, managementPort))
        {
            var pub = first.Public;
            using (var response = await CapiGateway.PostEventsAsync(pub, GoogleAnalyticsGapFillTests.Purchase("KILL-1")))
            {
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }

            using (var response = await CapiGateway.PostEventsAsync(pub, GoogleAnalyticsGapFillTests.Purchase("KILL-2")))
            {
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }

            // KILL-2's browser hit arrives inside the window; then the process dies before either window ends.
            using (var hit = new HttpRequestMessage(HttpMethod.Post, "/metrics/g/collect?" + GoogleAnalyticsGapFillTests.BrowserHit("KILL-2")) { Content = new StringContent(string.Empty) })
            {
                hit.Headers.TryAddWithoutValidation("User-Agent", "Mozilla/5.0 Test/1.0");
                using var forwarded = await pub.SendAsync(hit);
                Assert.Equal(HttpStatusCode.NoContent, forwarded.StatusCode);
            }

            await Task.Delay(700); // the pipeline records the hit and the journal writer flushes it
            Assert.Empty(Mp.Events);
            await first.KillAsync();
        }

        Assert.Empty(Mp.Events);
        await using (var second = await GatewayProcess.StartAsync(settings, publicPort, managementPort))
        {
            var sent = await Wait.UntilAsync(() => Mp.Events.Count >= 1, TimeSpan.FromSeconds(30));
            await Task.Delay(Window + TimeSpan.FromSeconds(1));
            await second.KillAsync();
            Assert.True(sent, "the waiting event was not sent after the restart");
        }

        var only = Assert.Single(Mp.Events);
        Assert.Equal("KILL-1", only.TransactionId);
        Assert.Empty(Mp.Rejections);
    }
}
