using System.Net;
using System.Net.Sockets;
using System.Text;
using TagGateway.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TagGateway.Tests.Lifecycle;

/// <summary>Kestrel's limits from Gateway:Limits, against slow and idle clients on the real listeners (issue #17.5).</summary>
public sealed class ConnectionLimitTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Slowloris_connections_are_closed_after_the_header_timeout_while_healthy_keeps_answering()
    {
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = GatewayInstance.Settings(upstream.Origin);
        settings["Gateway:Limits:RequestHeadersTimeout"] = "00:00:02";
        await using var gateway = await LifecycleHost.StartAsync(settings);

        // Each client trickles one byte of a never-ending header block every second.
        const int Clients = 8;
        using var stop = new CancellationTokenSource();
        var closed = Enumerable.Range(0, Clients).Select(_ => TrickleUntilClosedAsync(gateway.PublicEndPoint, stop.Token)).ToArray();

        // While they trickle, the gateway answers everyone else.
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("ok", await gateway.Public.GetStringAsync("/metrics/healthy"));
            await Task.Delay(300);
        }

        // Closed by the 2 s header timeout: well before the 10 s the timeout was fixed at, so this fails where the option is ignored.
        var all = Task.WhenAll(closed);
        var finished = await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(8)));
        await stop.CancelAsync();
        Assert.Same(all, finished);
        Assert.All(await all, Assert.True);
        Assert.Equal("ok", await gateway.Public.GetStringAsync("/metrics/healthy"));
    }

    [Fact]
    public async Task Connections_over_the_limit_are_closed_unanswered_management_keeps_answering_and_memory_stays_bounded()
    {
        const int Limit = 20;
        const int Extra = 1000;
        await using var upstream = await FakeUpstream.StartAsync();
        var settings = GatewayInstance.Settings(upstream.Origin);
        settings["Gateway:Limits:MaxConnections"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var gateway = await LifecycleHost.StartAsync(settings);
        Assert.Equal("ok", await gateway.Management.GetStringAsync("/healthz"));

        // Fill the public listener with idle connections (no byte sent; the keep-alive timeout is minutes away).
        var held = new List<TcpClient>();
        try
        {
            for (var i = 0; i < Limit; i++)
            {
                var client = new TcpClient();
                await client.ConnectAsync(gateway.PublicEndPoint);
                held.Add(client);
            }

            Assert.True(await WaitAsync(async () => await gateway.MetricAsync("taggateway_connections{listener=\"public\"}") == Limit));
            var before = LifecycleHost.ResidentBytes();

            // Every further connection is accepted and closed at once, unread: the client reads end of stream.
            var refused = 0;
            foreach (var batch in Enumerable.Range(0, Extra).Chunk(50))
            {
                var results = await Task.WhenAll(batch.Select(_ => ClosedWithoutAnswerAsync(gateway.PublicEndPoint)));
                refused += results.Count(static r => r);
                Assert.Equal(refused, batch[^1] + 1);
            }

            Assert.Equal(Extra, refused);
            Assert.True(await gateway.MetricAsync("taggateway_connections_rejected_total{listener=\"public\"}") >= Extra);

            // The management listener counts its own connections: probes and scrapes get through a full public listener.
            Assert.Equal("ok", await gateway.Management.GetStringAsync("/healthz"));
            using (var ready = await gateway.Management.GetAsync("/readyz"))
            {
                Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            }

            // A thousand refused connections leave nothing behind (loosely: the test process's own resident set).
            var grown = LifecycleHost.ResidentBytes() - before;
            output.WriteLine($"{Extra} connections over a limit of {Limit}: resident set {before / (1024 * 1024)} MB before, grew {grown / 1024} KB");
            Assert.True(grown < 64L * 1024 * 1024, $"resident set grew by {grown / (1024 * 1024)} MB");

            // Below the limit again, the public listener answers.
            foreach (var client in held.Take(5))
            {
                client.Dispose();
            }

            Assert.True(await WaitAsync(async () => await gateway.MetricAsync("taggateway_connections{listener=\"public\"}") <= Limit - 5));
            Assert.Equal("ok", await gateway.Public.GetStringAsync("/metrics/healthy"));
        }
        finally
        {
            foreach (var client in held)
            {
                client.Dispose();
            }
        }
    }

    /// <summary>Writes a request head one byte a second, never finishing it; true once the server closes the connection.</summary>
    private static async Task<bool> TrickleUntilClosedAsync(IPEndPoint endPoint, CancellationToken stop)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(endPoint, stop);
        var stream = client.GetStream();
        var reader = DrainAsync(stream);
        var head = Encoding.ASCII.GetBytes("GET /metrics/healthy HTTP/1.1\r\nHost: www.example.com\r\nX-Slow: ");
        await stream.WriteAsync(head, stop);
        try
        {
            while (!reader.IsCompleted && !stop.IsCancellationRequested)
            {
                await Task.WhenAny(reader, Task.Delay(1000, stop));
                if (!reader.IsCompleted)
                {
                    await stream.WriteAsync("a"u8.ToArray(), stop);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException)
        {
            // Writing to a connection the server closed.
        }

        return await Task.WhenAny(reader, Task.Delay(2000, CancellationToken.None)) == reader;
    }

    /// <summary>Reads until the server closes the connection (end of stream or reset).</summary>
    private static async Task DrainAsync(NetworkStream stream)
    {
        var buffer = new byte[1024];
        try
        {
            while (await stream.ReadAsync(buffer) > 0)
            {
            }
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Connects and waits for the server to close without a byte of answer; false if it answers or keeps it open.</summary>
    private static async Task<bool> ClosedWithoutAnswerAsync(IPEndPoint endPoint)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(endPoint);
            var stream = client.GetStream();
            var buffer = new byte[64];
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            return read == 0;
        }
        catch (IOException)
        {
            return true; // reset
        }
        catch (SocketException)
        {
            return true; // refused or reset while connecting
        }
        catch (TimeoutException)
        {
            return false; // still open: not limited
        }
    }

    private static async Task<bool> WaitAsync(Func<Task<bool>> condition)
    {
        var end = DateTime.UtcNow.AddSeconds(15);
        while (DateTime.UtcNow < end)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(50);
        }

        return await condition();
    }
}
