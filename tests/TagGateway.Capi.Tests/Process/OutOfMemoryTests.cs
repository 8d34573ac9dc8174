using System.Net;
using System.Text.Json;
using TagGateway.TestKit.Loopback;

namespace TagGateway.Capi.Tests.Process;

/// <summary>
/// The real gateway process (dotnet TagGateway.dll) under a GC heap limit, as a container's memory limit sets one.
/// Conversions pile up behind a platform that does not answer until the heap runs out: the gateway must exit at once
/// with the reason (not sit with its listeners dead, answering nothing, as it did), and a restart must deliver every
/// event it answered 202. A second gateway shows the start-up warning and the setup-check line that say so beforehand.
/// </summary>
public sealed class OutOfMemoryTests : CapiFakesTest
{
    /// <summary>
    /// The runtime reads GC settings from the environment in hexadecimal: 0x3000000 is 48 MiB, room to start and become
    /// ready with the JIT, and little enough that held conversions exhaust it within seconds.
    /// </summary>
    private const string SmallHeapLimitHex = "3000000";

    [Fact]
    public async Task A_gateway_out_of_memory_exits_with_the_reason_and_a_restart_delivers_every_acknowledged_event()
    {
        var ports = LoopbackPorts.Distinct(2);
        var settings = Settings(ports[0], ports[1]);
        settings["DOTNET_GCHeapHardLimit"] = SmallHeapLimitHex;

        // Meta holds every batch for a minute, so accepted events stay in memory until the heap is gone.
        Fake.Latency = TimeSpan.FromMinutes(1);
        var acknowledged = new HashSet<string>();
        await using (var first = await GatewayProcess.StartAsync(settings, ports[0], ports[1]))
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            var senders = Enumerable.Range(0, 4).Select(sender => Task.Run(async () =>
            {
                var mine = new List<string>();
                for (var request = 0; !first.HasExited && !stop.IsCancellationRequested; request++)
                {
                    var ids = Enumerable.Range(0, 100).Select(i => $"M-{sender}-{request}-{i}").ToList();
                    try
                    {
                        using var response = await CapiGateway.PostEventsAsync(first.Public, Batch(ids));
                        if (response.StatusCode == HttpStatusCode.Accepted)
                        {
                            mine.AddRange(ids);
                        }
                    }
                    catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                    {
                        // The process went away under this request: not acknowledged.
                    }
                }

                return mine;
            })).ToArray();

            var exited = await first.ExitsWithinAsync(TimeSpan.FromSeconds(150));
            foreach (var ids in await Task.WhenAll(senders))
            {
                acknowledged.UnionWith(ids);
            }

            Assert.True(exited, "the gateway ran out of memory and did not exit: " + Tail(first.Output));
            Assert.NotEqual(0, first.ExitCode);
            Assert.Contains(first.Output, static line => line.Contains("TagGateway: out of memory", StringComparison.Ordinal));
        }

        Assert.NotEmpty(acknowledged);
        Fake.Latency = TimeSpan.Zero;
        settings.Remove("DOTNET_GCHeapHardLimit");
        await using (var second = await GatewayProcess.StartAsync(settings, ports[0], ports[1]))
        {
            var all = await Wait.UntilAsync(() => Fake.For("meta").Select(static e => e.EventId).ToHashSet().IsSupersetOf(acknowledged), TimeSpan.FromSeconds(90));
            await second.KillAsync();
            Assert.True(all, $"{acknowledged.Except(Fake.For("meta").Select(static e => e.EventId)).Count()} of {acknowledged.Count} acknowledged events not delivered after the restart");
        }
    }

    [Fact]
    public async Task Store_budgets_above_half_the_heap_limit_are_a_start_up_warning_and_a_red_setup_line()
    {
        var ports = LoopbackPorts.Distinct(2);
        var settings = Settings(ports[0], ports[1]);

        // 128 MiB for the GC; the default budgets are 32 MiB of events and a 64 MiB ledger: 96 MiB, more than half.
        settings["DOTNET_GCHeapHardLimit"] = "8000000";
        await using (var tight = await GatewayProcess.StartAsync(settings, ports[0], ports[1]))
        {
            Assert.True(await Wait.UntilAsync(() => tight.Output.Any(static l => l.Contains("Memory: the CAPI store's budgets", StringComparison.Ordinal))), Tail(tight.Output));
            var line = await SetupLineAsync(tight, "memory");
            Assert.NotNull(line);
            Assert.Equal("red", line.Value.GetProperty("level").GetString());
            Assert.Contains("96 MiB", line.Value.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Contains("128 MiB", line.Value.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // Budgets that fit: no warning, no line.
        settings["Capi:Store:LedgerMaxBytes"] = (16 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Capi:Store:MaxMemoryBytes"] = (16 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var roomy = await GatewayProcess.StartAsync(settings, ports[0], ports[1]);
        Assert.Null(await SetupLineAsync(roomy, "memory"));
        Assert.DoesNotContain(roomy.Output, static l => l.Contains("Memory: the CAPI store's budgets", StringComparison.Ordinal));
    }

    private Dictionary<string, string?> Settings(int publicPort, int managementPort)
    {
        var settings = CapiGateway.GatewaySettings(Fake, publicPort, managementPort);
        foreach ((var key, var value) in Fake.CapiSettings(Store.Path, tiktok: false, linkedIn: false, google: false))
        {
            settings[key] = value;
        }

        settings["Capi:MergeWindow"] = "00:00:00";
        settings["Logging:LogLevel:Default"] = "Warning";
        return settings;
    }

    private static async Task<JsonElement?> SetupLineAsync(GatewayProcess gateway, string id)
    {
        using var response = await gateway.Management.GetAsync("/ui/api/setup");
        response.EnsureSuccessStatusCode();
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        foreach (var line in document.RootElement.GetProperty("lines").EnumerateArray())
        {
            if (line.GetProperty("id").GetString() == id)
            {
                return line.Clone();
            }
        }

        return null;
    }

    private static string Batch(IEnumerable<string> ids)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var events = string.Join(',', ids.Select(id =>
            $$"""{"event_name":"purchase","event_time":{{now}},"page_url":"https://shop.example/thanks","event_id":"{{id}}","transaction_id":"{{id}}","currency":"EUR","value":1,"user":{"email":"{{id}}@example.com","ip":"198.51.100.7","user_agent":"UA"},"consent":{"ad_storage":"granted","ad_user_data":"granted","ad_personalization":"granted"},"region":"US"}"""));
        return $$"""{"events":[{{events}}]}""";
    }

    private static string Tail(IReadOnlyCollection<string> output) => string.Join('\n', output.TakeLast(20));
}
