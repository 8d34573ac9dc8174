using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace TagGateway.Capi.Redis.Tests.Infrastructure;

/// <summary>
/// A real redis-server (Debian's package) on a free loopback port, in its own directory, with the append-only file
/// fsync'd on every write: the persistence the store documents as required, so a kill -9 of Redis loses nothing
/// it acknowledged. Killed and restarted on the same port and directory by the outage test.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    public const string RequireVariable = "TAGGATEWAY_REQUIRE_REDIS";

    private System.Diagnostics.Process? _process;

    private RedisServer(string binary, int port, string directory)
    {
        Binary = binary;
        Port = port;
        Directory = directory;
    }

    public string Binary { get; }

    public int Port { get; }

    public string Directory { get; }

    public string Configuration => $"127.0.0.1:{Port}";

    /// <summary>Where redis-server is: TAGGATEWAY_REDIS_SERVER, else /usr/bin/redis-server; null when missing.</summary>
    public static string? Find()
    {
        var configured = Environment.GetEnvironmentVariable("TAGGATEWAY_REDIS_SERVER");
        foreach (var candidate in (string?[])[configured, "/usr/bin/redis-server", "/usr/local/bin/redis-server"])
        {
            if (!string.IsNullOrEmpty(candidate) && File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>
    /// Skips the test without redis-server, or fails it when TAGGATEWAY_REQUIRE_REDIS=1 (CI installs it: a missing
    /// server there is a broken setup, not a reason to pass).
    /// </summary>
    public static string Require()
    {
        var binary = Find();
        if (binary is null && Environment.GetEnvironmentVariable(RequireVariable) == "1")
        {
            Assert.Fail($"redis-server is required ({RequireVariable}=1) but not installed: apt-get install redis-server (looked for /usr/bin/redis-server).");
        }

        Skip.If(binary is null, "redis-server is not installed (apt-get install redis-server); set TAGGATEWAY_REQUIRE_REDIS=1 to make this a failure.");
        return binary!;
    }

    public static async Task<RedisServer> StartAsync(int? port = null)
    {
        var server = Create(port);
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>A server on a reserved port, not started yet (a gateway may start before its Redis).</summary>
    public static RedisServer Create(int? port = null)
    {
        var binary = Require();
        var server = new RedisServer(binary, port ?? TagGateway.TestKit.Loopback.LoopbackPorts.Free(), Path.Combine(Path.GetTempPath(), "capi-redis-tests", Guid.NewGuid().ToString("N")));
        System.IO.Directory.CreateDirectory(server.Directory);
        return server;
    }

    /// <summary>Starts the server (again) on the same port and directory: the append-only file is replayed.</summary>
    public async Task StartAgainAsync()
    {
        var info = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Directory,
        };
        foreach (var arg in (string[])["--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", Directory,
                     "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no", "--logfile", ""])
        {
            info.ArgumentList.Add(arg);
        }

        _process = System.Diagnostics.Process.Start(info)!;
        _process.OutputDataReceived += static (_, _) => { };
        _process.ErrorDataReceived += static (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var end = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < end)
        {
            Assert.False(_process.HasExited, "redis-server exited at start");
            if (await PingAsync())
            {
                return;
            }

            await Task.Delay(50);
        }

        Assert.Fail("redis-server did not answer PING");
    }

    /// <summary>SIGKILL: no shutdown save, only what the append-only file already holds survives.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        _process = null;
    }

    /// <summary>Sends one inline command and returns the first line of the reply.</summary>
    public async Task<string> CommandAsync(string command)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(command + "\r\n"));
        var buffer = new byte[4096];
        var read = await stream.ReadAsync(buffer);
        return Encoding.ASCII.GetString(buffer, 0, read).Split("\r\n")[0];
    }

    /// <summary>How many entries of a stream a consumer holds unacknowledged (XPENDING … consumer).</summary>
    public async Task<int> PendingAsync(string stream, string consumer)
    {
        var reply = await CommandAsync($"XPENDING {stream} gateway - + 10000 {consumer}");
        Assert.StartsWith("*", reply);
        return int.Parse(reply.AsSpan(1), System.Globalization.CultureInfo.InvariantCulture);
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<bool> PingAsync()
    {
        try
        {
            return await CommandAsync("PING") == "+PONG";
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
