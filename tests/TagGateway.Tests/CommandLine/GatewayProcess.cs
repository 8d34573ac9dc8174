using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TagGateway.Tests.CommandLine;

/// <summary>The gateway binary as a user runs it: arguments and environment in, exit code and text out.</summary>
internal sealed class GatewayProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private GatewayProcess(Process process)
    {
        _process = process;
    }

    public string Stdout
    {
        get
        {
            lock (_stdout)
            {
                return _stdout.ToString();
            }
        }
    }

    public string Stderr
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    public int ExitCode => _process.ExitCode;

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <c>dotnet TagGateway.dll</c> with loopback ports of its own, so no run touches 8080/9090 or another test's ports.</summary>
    public static GatewayProcess Start(string[] args, Dictionary<string, string?>? environment = null)
    {
        var info = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "TagGateway.dll"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        var ports = TagGateway.TestKit.Loopback.LoopbackPorts.Distinct(3);
        info.Environment["Gateway__PublicUrl"] = $"http://127.0.0.1:{ports[0]}";
        info.Environment["Gateway__ManagementUrl"] = $"http://127.0.0.1:{ports[1]}";
        info.Environment["Gateway__Demo__UpstreamUrl"] = $"http://127.0.0.1:{ports[2]}";
        info.Environment["Logging__Console__FormatterName"] = "simple";
        foreach ((var key, var value) in environment ?? [])
        {
            info.Environment[key] = value;
        }

        var started = new GatewayProcess(Process.Start(info)!);
        started._process.OutputDataReceived += (_, e) => Append(started._stdout, e.Data);
        started._process.ErrorDataReceived += (_, e) => Append(started._stderr, e.Data);
        started._process.BeginOutputReadLine();
        started._process.BeginErrorReadLine();
        return started;
    }

    /// <summary>Runs to its exit (bounded: an old build that ignores the arguments and serves is killed, and the test fails).</summary>
    public static async Task<GatewayProcess> RunAsync(string[] args, Dictionary<string, string?>? environment = null)
    {
        var process = Start(args, environment);
        await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
        return process;
    }

    public async Task WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            Assert.Fail($"The gateway did not exit within {timeout}; it wrote:{Environment.NewLine}{Stdout}{Stderr}");
        }

        // The asynchronous readers finish after the exit; WaitForExit() without a timeout waits for them.
        _process.WaitForExit();
    }

    /// <summary>Polls the output until it holds the text (bounded), then says whether it did.</summary>
    public async Task<bool> WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var end = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < end && !_process.HasExited)
        {
            if (Stdout.Contains(text, StringComparison.Ordinal))
            {
                return true;
            }

            await Task.Delay(50);
        }

        return Stdout.Contains(text, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    private static void Append(StringBuilder text, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (text)
        {
            text.AppendLine(line);
        }
    }
}
