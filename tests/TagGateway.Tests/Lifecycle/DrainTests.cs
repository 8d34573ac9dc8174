using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Lifecycle;

/// <summary>The graceful drain on SIGTERM, on the gateway as a real process (issue #17.6).</summary>
public sealed class DrainTests
{
    [Fact]
    public async Task Sigterm_turns_readyz_503_for_the_delay_while_hits_are_served_then_drains_in_flight_and_exits_0()
    {
        // The upstream holds "slow" hits long enough to still be in flight when the delay ends.
        var slowReleased = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = await FakeUpstream.StartAsync(async (context, recorded) =>
        {
            if (recorded.PathAndQuery.Contains("slow=1", StringComparison.Ordinal))
            {
                await Task.Delay(TimeSpan.FromSeconds(8));
                slowReleased.TrySetResult();
            }

            if (recorded.PathAndQuery.Contains("/gtag/js", StringComparison.Ordinal))
            {
                context.Response.ContentType = "application/javascript";
                await context.Response.WriteAsync("/* tag */");
                return;
            }

            context.Response.StatusCode = StatusCodes.Status204NoContent;
        });
        var ports = TagGateway.TestKit.Loopback.LoopbackPorts.Distinct(2);
        var (publicPort, managementPort) = (ports[0], ports[1]);
        var settings = GatewayInstance.Settings(upstream.Origin);
        settings["Gateway:PublicUrl"] = $"http://127.0.0.1:{publicPort}";
        settings["Gateway:ManagementUrl"] = $"http://127.0.0.1:{managementPort}";
        settings["Gateway:ShutdownDelay"] = "00:00:05";
        settings["Logging:LogLevel:Default"] = "Information";

        using var process = Start(settings, out var output);
        try
        {
            using var publicClient = LifecycleHost.Client(new IPEndPoint(IPAddress.Loopback, publicPort));
            using var management = LifecycleHost.Client(new IPEndPoint(IPAddress.Loopback, managementPort));
            await WaitReadyAsync(management, process, output);

            var inFlight = publicClient.PostAsync("/metrics/g/collect?v=2&tid=G-TEST1234&en=purchase&slow=1", new StringContent(string.Empty));
            Assert.True(await WaitUntilAsync(() => upstream.Requests.Any(static r => r.PathAndQuery.Contains("slow=1", StringComparison.Ordinal))), "the slow hit reached the upstream");

            Terminate(process);
            try
            {
                await CheckDrainAsync(publicClient, management, slowReleased.Task);
            }
            catch (HttpRequestException ex)
            {
                Assert.Fail($"{ex.Message}\n{output}");
            }

            // The in-flight hit completes through the drain, and the process exits cleanly.
            using (var slow = await inFlight)
            {
                Assert.Equal(HttpStatusCode.NoContent, slow.StatusCode);
            }

            Assert.True(process.WaitForExit(TimeSpan.FromSeconds(20)), "exited after draining");
            Assert.True(process.ExitCode == 0, $"exit code {process.ExitCode}\n{output}");
            Assert.Contains("SIGTERM: /readyz answers 503", output.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    private static async Task CheckDrainAsync(HttpClient publicClient, HttpClient management, Task slowReleased)
    {
        // As soon as the signal is handled (milliseconds), then repeatedly during the delay: not ready, yet the public
        // listener still serves hits.
        Assert.True(await WaitUntilAsync(async () =>
        {
            using var first = await management.GetAsync("/readyz");
            return first.StatusCode == HttpStatusCode.ServiceUnavailable;
        }), "readyz turned 503");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var ready = await management.GetAsync("/readyz");
            statuses.Add(ready.StatusCode);
            await Task.Delay(100);
        }

        using (var hit = await publicClient.PostAsync("/metrics/g/collect?v=2&tid=G-TEST1234&en=page_view", new StringContent(string.Empty)))
        {
            Assert.Equal(HttpStatusCode.NoContent, hit.StatusCode);
        }

        // A script load that misses the cache still fetches: the delay is not yet the stop.
        using (var script = await publicClient.GetAsync("/metrics/gtag/js?id=G-TEST1234"))
        {
            Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        }

        Assert.All(statuses, static s => Assert.Equal(HttpStatusCode.ServiceUnavailable, s));
        Assert.False(slowReleased.IsCompleted, "the slow hit was still in flight when the delay was checked");
    }

    /// <summary>The gateway as a real process (dotnet TagGateway.dll beside the tests), configured through the environment.</summary>
    private static Process Start(Dictionary<string, string?> settings, out StringBuilder output)
    {
        var info = new ProcessStartInfo("dotnet", Path.Combine(AppContext.BaseDirectory, "TagGateway.dll"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var (key, value) in settings)
        {
            info.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        var lines = new StringBuilder();
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) =>
        {
            lock (lines)
            {
                lines.AppendLine(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            lock (lines)
            {
                lines.AppendLine(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        output = lines;
        return process;
    }

    /// <summary>SIGTERM, as systemd, Docker, Kubernetes and Cloud Run send it.</summary>
    private static void Terminate(Process process)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    private static async Task WaitReadyAsync(HttpClient management, Process process, StringBuilder output)
    {
        var end = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < end)
        {
            Assert.False(process.HasExited, $"the gateway exited at start-up\n{output}");
            try
            {
                using var ready = await management.GetAsync("/readyz");
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

        Assert.Fail($"the gateway never became ready\n{output}");
    }

    private static async Task<bool> WaitUntilAsync(Func<Task<bool>> condition)
    {
        var end = DateTime.UtcNow.AddSeconds(2);
        while (DateTime.UtcNow < end)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(10);
        }

        return false;
    }

    private static async Task<bool> WaitUntilAsync(Func<bool> condition)
    {
        var end = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < end && !condition())
        {
            await Task.Delay(20);
        }

        return condition();
    }
}
