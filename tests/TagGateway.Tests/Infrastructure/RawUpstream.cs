using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace TagGateway.Tests.Infrastructure;

/// <summary>One request as a raw upstream read it, and the socket to answer on with whatever bytes a test wants.</summary>
public sealed class RawExchange(Stream stream, int connection, int index, string head, byte[] body, CancellationToken stopping)
{
    /// <summary>The connection: a <see cref="NetworkStream"/>, or an <see cref="SslStream"/> for a TLS upstream.</summary>
    public Stream Stream { get; } = stream;

    /// <summary>Which accepted connection (1-based) carried the request.</summary>
    public int Connection { get; } = connection;

    /// <summary>Which request (1-based, across all connections) this is.</summary>
    public int Index { get; } = index;

    public string Head { get; } = head;

    public byte[] Body { get; } = body;

    /// <summary>Cancelled when the upstream is disposed (for an answer that never comes).</summary>
    public CancellationToken Stopping { get; } = stopping;

    /// <summary>Set by the handler to close the connection after its answer.</summary>
    public bool Close { get; set; }

    public Task WriteAsync(string text) => WriteAsync(Encoding.ASCII.GetBytes(text));

    public async Task WriteAsync(byte[] bytes)
    {
        await Stream.WriteAsync(bytes, Stopping);
        await Stream.FlushAsync(Stopping);
    }

    /// <summary>Writes <paramref name="text"/> one byte per TCP write (Nagle off): a response split as finely as it can be.</summary>
    public async Task TrickleAsync(string text)
    {
        foreach (var b in Encoding.ASCII.GetBytes(text))
        {
            await Stream.WriteAsync(new[] { b }, Stopping);
            await Stream.FlushAsync(Stopping);
            await Task.Delay(1, Stopping);
        }
    }
}

/// <summary>
/// A fake upstream on raw TCP (127.0.0.1), optionally behind TLS: reads HTTP/1.1 requests off keep-alive connections
/// and lets the test answer with any bytes at all, well-formed or hostile. Counts connections (and TLS handshakes), so
/// a test can tell reuse from a new one, and records what each TLS client offered in its ClientHello.
/// </summary>
public sealed class RawUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentBag<Task> _connections = [];
    private readonly Func<RawExchange, Task> _handler;
    private readonly X509Certificate2? _certificate;
    private readonly List<SslApplicationProtocol>? _alpn;
    private Task _accepting = Task.CompletedTask;
    private int _connectionCount;
    private int _handshakeCount;
    private int _closedCount;
    private int _requestCount;

    private RawUpstream(Func<RawExchange, Task> handler, X509Certificate2? certificate = null, List<SslApplicationProtocol>? alpn = null)
    {
        _handler = handler;
        _certificate = certificate;
        _alpn = alpn;
    }

    /// <summary><c>http://127.0.0.1:port</c>, or for TLS <c>https://localhost:port</c> (a name, so the client sends SNI).</summary>
    public Uri Origin => _certificate is null
        ? new($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}")
        : new($"https://{TestCertificates.UpstreamHost}:{((IPEndPoint)_listener.LocalEndpoint).Port}");

    public int Connections => Volatile.Read(ref _connectionCount);

    /// <summary>TLS handshakes completed (a TLS upstream only).</summary>
    public int Handshakes => Volatile.Read(ref _handshakeCount);

    /// <summary>Connections that have ended, on either side's initiative.</summary>
    public int Closed => Volatile.Read(ref _closedCount);

    /// <summary>What each TLS client said in its ClientHello, read off the wire before the handshake.</summary>
    public ConcurrentQueue<ClientHello> ClientHellos { get; } = new();

    /// <summary>The protocol each TLS handshake settled on (empty when the server chose none).</summary>
    public ConcurrentQueue<string> NegotiatedProtocols { get; } = new();

    public int Requests => Volatile.Read(ref _requestCount);

    public ConcurrentQueue<string> Heads { get; } = new();

    /// <summary>A well-formed keep-alive answer.</summary>
    public static string Ok(string body = "ok", string extra = "") =>
        $"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n{extra}Content-Length: {body.Length}\r\n\r\n{body}";

    public static RawUpstream Start(Func<RawExchange, Task> handler)
    {
        var upstream = new RawUpstream(handler);
        upstream._listener.Start();
        upstream._accepting = upstream.AcceptAsync();
        return upstream;
    }

    /// <summary>A TLS upstream presenting <paramref name="certificate"/>; <paramref name="alpn"/> null: it selects no protocol.</summary>
    public static RawUpstream StartTls(X509Certificate2 certificate, Func<RawExchange, Task> handler, List<SslApplicationProtocol>? alpn = null)
    {
        var upstream = new RawUpstream(handler, certificate, alpn);
        upstream._listener.Start();
        upstream._accepting = upstream.AcceptAsync();
        return upstream;
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            socket.NoDelay = true;
            var number = Interlocked.Increment(ref _connectionCount);
            _connections.Add(Task.Run(() => ServeAsync(socket, number)));
        }
    }

    private async Task ServeAsync(Socket socket, int connection)
    {
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        var buffer = new List<byte>();
        var chunk = new byte[8192];
        try
        {
            if (_certificate is not null)
            {
                ClientHellos.Enqueue(await ClientHello.PeekAsync(socket, _stopping.Token));
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = tls;
                await tls.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
                {
                    ServerCertificate = _certificate,
                    ApplicationProtocols = _alpn,
                }, _stopping.Token);
                Interlocked.Increment(ref _handshakeCount);
                NegotiatedProtocols.Enqueue(tls.NegotiatedApplicationProtocol.ToString());
            }

            while (!_stopping.IsCancellationRequested)
            {
                int headEnd;
                while ((headEnd = IndexOfHeadEnd(buffer)) < 0)
                {
                    var read = await stream.ReadAsync(chunk, _stopping.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    buffer.AddRange(chunk.AsSpan(0, read));
                }

                var head = Encoding.ASCII.GetString(buffer.GetRange(0, headEnd).ToArray());
                var length = ContentLength(head);
                while (buffer.Count < headEnd + 4 + length)
                {
                    var read = await stream.ReadAsync(chunk, _stopping.Token);
                    if (read == 0)
                    {
                        return;
                    }

                    buffer.AddRange(chunk.AsSpan(0, read));
                }

                var body = buffer.GetRange(headEnd + 4, length).ToArray();
                buffer.RemoveRange(0, headEnd + 4 + length);
                Heads.Enqueue(head);
                var exchange = new RawExchange(stream, connection, Interlocked.Increment(ref _requestCount), head, body, _stopping.Token);
                await _handler(exchange);
                if (exchange.Close)
                {
                    if (stream is SslStream closing)
                    {
                        // A clean TLS close: close_notify, then the FIN when the stream is disposed.
                        await closing.ShutdownAsync();
                    }

                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or SocketException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
        {
            // The gateway closed the connection (or refused our certificate), or the test ended.
        }
        finally
        {
            await stream.DisposeAsync();
            Interlocked.Increment(ref _closedCount);
        }
    }

    private static int IndexOfHeadEnd(List<byte> buffer)
    {
        for (var i = 0; i + 3 < buffer.Count; i++)
        {
            if (buffer[i] == '\r' && buffer[i + 1] == '\n' && buffer[i + 2] == '\r' && buffer[i + 3] == '\n')
            {
                return i;
            }
        }

        return -1;
    }

    private static int ContentLength(string head)
    {
        foreach (var line in head.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                return int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        await _accepting;
        await Task.WhenAll(_connections).WaitAsync(TimeSpan.FromSeconds(10));
        _stopping.Dispose();
    }
}
