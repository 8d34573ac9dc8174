using System.Diagnostics;
using System.Net;
using TagGateway.Capi.Tests.Infrastructure;

namespace TagGateway.Capi.Tests.Process;

/// <summary>
/// The real gateway process (dotnet TagGateway.dll) killed with SIGKILL while it is delivering, then restarted on the
/// same store: every event it acknowledged with 202 reaches the platform, counted by event id.
/// </summary>
public sealed class KillTests : IAsyncLifetime
{
    private FakePlatforms _fake = null!;
    private readonly string _store = TestKeys.TempStore();

    public async Task InitializeAsync() => _fake = await FakePlatforms.StartAsync();

    public async Task DisposeAsync()
    {
        await _fake.DisposeAsync();
        try
        {
            Directory.Delete(_store, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    [Fact]
    public async Task A_kill_9_mid_delivery_loses_nothing_acknowledged_and_a_restart_resumes()
    {
        const int Events = 300;
        const int BatchSize = 20;
        _fake.Latency = TimeSpan.FromMilliseconds(120);
        int publicPort = CapiGateway.FreePort(), managementPort = CapiGateway.FreePort();
        Dictionary<string, string?> settings = CapiGateway.GatewaySettings(_fake, publicPort, managementPort);
        foreach ((string key, string? value) in _fake.CapiSettings(_store, tiktok: false, linkedIn: false, google: false))
        {
            settings[key] = value;
        }

        settings["Capi:Meta:MaxBatchSize"] = BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Capi:MergeWindow"] = "00:00:00";

        var acknowledged = new HashSet<string>();
        using (System.Diagnostics.Process first = Start(settings))
        {
            using HttpClient pub = CapiGateway.Client(publicPort);
            await WaitReadyAsync(managementPort, first);
            for (int request = 0; request < Events / 50; request++)
            {
                var ids = Enumerable.Range(request * 50, 50).Select(static i => $"K-{i}").ToList();
                string events = string.Join(',', ids.Select(static id =>
                    $$"""{"event_name":"purchase","event_time":{{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}},"page_url":"https://shop.example/thanks","event_id":"{{id}}","transaction_id":"{{id}}","currency":"EUR","value":1,"user":{"email":"{{id}}@example.com","ip":"198.51.100.7","user_agent":"UA"},"consent":{"ad_storage":"granted","ad_user_data":"granted","ad_personalization":"granted"},"region":"US"}"""));
                using HttpResponseMessage response = await CapiGateway.PostEventsAsync(pub, $$"""{"events":[{{events}}]}""");
                Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
                acknowledged.UnionWith(ids);
            }

            // Mid-delivery: some batches are through, most are not.
            Assert.True(await Wait.UntilAsync(() => _fake.For("meta").Count() >= 2 * BatchSize));
            first.Kill(entireProcessTree: true); // SIGKILL: no shutdown hook runs
            await first.WaitForExitAsync();
        }

        int beforeRestart = _fake.For("meta").Select(static e => e.EventId).Distinct().Count();
        Assert.InRange(beforeRestart, 2 * BatchSize, Events - 1);

        using (System.Diagnostics.Process second = Start(settings))
        {
            await WaitReadyAsync(managementPort, second);
            bool all = await Wait.UntilAsync(() => _fake.For("meta").Select(static e => e.EventId).Distinct().Count() >= Events, TimeSpan.FromSeconds(60));
            second.Kill(entireProcessTree: true);
            await second.WaitForExitAsync();
            Assert.True(all, $"{_fake.For("meta").Select(static e => e.EventId).Distinct().Count()} of {Events} delivered");
        }

        var delivered = _fake.For("meta").Select(static e => e.EventId).ToList();
        Assert.Subset(delivered.ToHashSet(), acknowledged);
        Assert.Superset(acknowledged, delivered.ToHashSet());

        // At-least-once across a crash: only the batches in flight at the kill may be sent twice.
        int duplicates = delivered.Count - delivered.Distinct().Count();
        Assert.InRange(duplicates, 0, BatchSize * 2);
        Assert.Empty(_fake.Rejections);
    }

    private static System.Diagnostics.Process Start(Dictionary<string, string?> settings)
    {
        var process = System.Diagnostics.Process.Start(CapiGateway.ProcessStartInfo(settings))!;
        process.OutputDataReceived += static (_, _) => { };
        process.ErrorDataReceived += static (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitReadyAsync(int managementPort, System.Diagnostics.Process process)
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
