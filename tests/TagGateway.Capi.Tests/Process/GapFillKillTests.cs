using System.Net;
using TagGateway.Capi.Tests.GapFill;
using TagGateway.Capi.Tests.Infrastructure;

namespace TagGateway.Capi.Tests.Process;

/// <summary>
/// The real gateway process killed with SIGKILL while a Google Analytics gap-fill event waits for its window: after a
/// restart on the same journal it is sent once, and a browser hit recorded before the kill still cancels its twin.
/// </summary>
public sealed class GapFillKillTests : IAsyncLifetime
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(4);

    private FakePlatforms _fake = null!;
    private FakeMeasurementProtocol _mp = null!;
    private readonly TempStoreDirectory _store = new();

    public async Task InitializeAsync()
    {
        _fake = await FakePlatforms.StartAsync();
        _mp = await FakeMeasurementProtocol.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await _mp.DisposeAsync();
        await _fake.DisposeAsync();
        _store.Dispose();
    }

    [Fact]
    public async Task A_kill_9_while_waiting_sends_it_once_after_restart_and_a_recorded_browser_hit_still_cancels()
    {
        int publicPort = CapiGateway.FreePort(), managementPort = CapiGateway.FreePort();
        Dictionary<string, string?> settings = CapiGateway.GatewaySettings(_fake, publicPort, managementPort);
        foreach ((string key, string? value) in _fake.CapiSettings(_store.Path, meta: false, tiktok: false, linkedIn: false, google: false))
        {
            settings[key] = value;
        }

        foreach ((string key, string? value) in _mp.Settings(Window))
        {
            settings[key] = value;
        }

        using (System.Diagnostics.Process first = ProcessHost.Start(settings))
        {
            await ProcessHost.WaitReadyAsync(managementPort, first);
            using HttpClient pub = CapiGateway.Client(publicPort);
            using (HttpResponseMessage response = await CapiGateway.PostEventsAsync(pub, GoogleAnalyticsGapFillTests.Purchase("KILL-1")))
            {
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }

            using (HttpResponseMessage response = await CapiGateway.PostEventsAsync(pub, GoogleAnalyticsGapFillTests.Purchase("KILL-2")))
            {
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            }

            // KILL-2's browser hit arrives inside the window; then the process dies before either window ends.
            using (var hit = new HttpRequestMessage(HttpMethod.Post, "/metrics/g/collect?" + GoogleAnalyticsGapFillTests.BrowserHit("KILL-2")) { Content = new StringContent(string.Empty) })
            {
                hit.Headers.TryAddWithoutValidation("User-Agent", "Mozilla/5.0 Test/1.0");
                using HttpResponseMessage forwarded = await pub.SendAsync(hit);
                Assert.Equal(HttpStatusCode.NoContent, forwarded.StatusCode);
            }

            await Task.Delay(700); // the pipeline records the hit and the journal writer flushes it
            Assert.Empty(_mp.Events);
            first.Kill(entireProcessTree: true); // SIGKILL: no shutdown hook runs
            await first.WaitForExitAsync();
        }

        Assert.Empty(_mp.Events);
        using (System.Diagnostics.Process second = ProcessHost.Start(settings))
        {
            await ProcessHost.WaitReadyAsync(managementPort, second);
            bool sent = await Wait.UntilAsync(() => _mp.Events.Count >= 1, TimeSpan.FromSeconds(30));
            await Task.Delay(Window + TimeSpan.FromSeconds(1));
            second.Kill(entireProcessTree: true);
            await second.WaitForExitAsync();
            Assert.True(sent, "the waiting event was not sent after the restart");
        }

        MpEventReceived only = Assert.Single(_mp.Events);
        Assert.Equal("KILL-1", only.TransactionId);
        Assert.Empty(_mp.Rejections);
    }
}

/// <summary>Starts the gateway as a real process and waits for /readyz (shared with <see cref="KillTests"/>'s pattern).</summary>
internal static class ProcessHost
{
    public static System.Diagnostics.Process Start(Dictionary<string, string?> settings)
    {
        var process = System.Diagnostics.Process.Start(CapiGateway.ProcessStartInfo(settings))!;
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    public static async Task WaitReadyAsync(int managementPort, System.Diagnostics.Process process)
    {
        using HttpClient management = CapiGateway.Client(managementPort);
        DateTime end = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < end)
        {
            Assert.False(process.HasExited, $"the gateway exited with {(process.HasExited ? process.ExitCode : 0)}");
            try
            {
                using HttpResponseMessage ready = await management.GetAsync("/readyz");
                if (ready.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(100);
        }

        Assert.Fail("the gateway did not become ready");
    }
}
