using System.Collections.Concurrent;
using System.Diagnostics;
using TagGateway.TestKit.Loopback;

namespace TagGateway.TestKit.Capi;

/// <summary>One real gateway process (dotnet TagGateway.dll) configured through the environment; its output is kept for assertions.</summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly System.Diagnostics.Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private GatewayProcess(System.Diagnostics.Process process, int publicPort, int managementPort)
    {
        _process = process;
        PublicPort = publicPort;
        ManagementPort = managementPort;
        Public = CapiGateway.Client(publicPort);
        Management = CapiGateway.Client(managementPort);
    }

    public int PublicPort { get; }

    public int ManagementPort { get; }

    public HttpClient Public { get; }

    public HttpClient Management { get; }

    public IReadOnlyCollection<string> Output => [.. _output];

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Whether the process exits on its own within <paramref name="timeout"/> (it is not killed).</summary>
    public async Task<bool> ExitsWithinAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>A gateway on fresh ports, configured against <paramref name="fake"/> plus <paramref name="capi"/>; returns once /readyz answers.</summary>
    public static async Task<GatewayProcess> StartAsync(FakePlatforms fake, Dictionary<string, string?> capi)
    {
        var ports = LoopbackPorts.Distinct(2);
        var (publicPort, managementPort) = (ports[0], ports[1]);
        var settings = CapiGateway.GatewaySettings(fake, publicPort, managementPort);
        foreach ((var key, var value) in capi)
        {
            settings[key] = value;
        }

        return await StartAsync(settings, publicPort, managementPort);
    }

    /// <summary>
    /// A gateway with exactly <paramref name="settings"/> (whose URLs name the two ports), so a restart after a kill
    /// comes back on the same ports and store.
    /// </summary>
    public static async Task<GatewayProcess> StartAsync(Dictionary<string, string?> settings, int publicPort, int managementPort)
    {
        var process = System.Diagnostics.Process.Start(CapiGateway.ProcessStartInfo(settings))!;
        var gateway = new GatewayProcess(process, publicPort, managementPort);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                gateway._output.Enqueue(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                gateway._output.Enqueue(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await gateway.WaitReadyAsync();
        }
        catch
        {
            // A gateway that never got ready must not outlive the failed test.
            await gateway.DisposeAsync();
            throw;
        }

        return gateway;
    }

    /// <summary>SIGKILL: no shutdown hook runs, the heartbeat is not removed, in-flight requests are cut.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        Public.Dispose();
        Management.Dispose();
        _process.Dispose();
    }

    private async Task WaitReadyAsync()
    {
        // A bound against a hang, not a speed check: a cold `dotnet TagGateway.dll` on a busy shared machine can take a minute.
        var end = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < end)
        {
            Assert.False(_process.HasExited, "the gateway exited: " + string.Join('\n', _output));
            try
            {
                using var ready = await Management.GetAsync("/readyz");
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

        Assert.Fail("the gateway did not become ready: " + string.Join('\n', _output));
    }
}
