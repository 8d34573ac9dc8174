using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;

namespace TagGateway.Forwarding.Pipelines;

/// <summary>
/// One keep-alive HTTP/1.1 connection to the upstream origin, used by one exchange at a time. It is also that
/// exchange's <see cref="IUpstreamResponse"/>: disposing it returns it to its pool only when the response was read
/// to its last byte, allowed keep-alive and left nothing unread; any error or doubt closes it.
/// </summary>
internal sealed class UpstreamConnection : IUpstreamResponse
{
    private readonly OriginPool _pool;
    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly PipeReader _reader;
    private byte[] _headBuffer = ArrayPool<byte>.Shared.Rent(4096);
    private List<KeyValuePair<string, string>> _headers = new(16);
    private List<KeyValuePair<string, string>> _previous = new(16);
    private ResponseHead _head;
    private bool _bodyRead;
    private bool _released;
    private bool _closed;

    public UpstreamConnection(OriginPool pool, Socket socket, Stream stream, long createdTimestamp)
    {
        _pool = pool;
        _socket = socket;
        _stream = stream;
        _reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true));
        Created = createdTimestamp;
    }

    public long Created { get; }

    /// <summary>When the connection went back to the pool.</summary>
    public long IdleSince { get; set; }

    /// <summary>Whether an earlier exchange ran on it: only such a connection can have been closed by the upstream while idle.</summary>
    public bool Reused { get; private set; }

    /// <summary>An idle connection the upstream has closed (or written to unasked) is readable: it must not carry a request.</summary>
    /// <remarks>
    /// Over TLS too: a closing server's close_notify and FIN make the socket readable. A TLS 1.3 server's session
    /// tickets follow its handshake and are read with the first response, so an idle connection (which has carried
    /// an exchange) has nothing pending unless the server closed it or sent a rare late ticket or key update, which
    /// costs one new handshake. A close that races the request is covered by the retry on a new connection.
    /// </remarks>
    public bool LooksAlive()
    {
        try
        {
            return !_socket.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Writes the request: head and a small body in one write, a streamed pass-through body after it.</summary>
    /// <param name="pathStart">Where the path begins in the target URL (after the origin).</param>
    public async ValueTask SendAsync(HttpContext context, HitUpstreamRequest request, int pathStart, CancellationToken cancellationToken)
    {
        var (length, streamed, rest) = WriteHead(context.Request, request, pathStart);
        await _stream.WriteAsync(_headBuffer.AsMemory(0, length), cancellationToken);
        if (streamed)
        {
            await request.Content!.WriteToAsync(_stream, cancellationToken);
        }
        else if (!rest.IsEmpty)
        {
            await _stream.WriteAsync(rest, cancellationToken);
        }

        await _stream.FlushAsync(cancellationToken);
    }

    /// <returns>The head's length, whether the body streams after it, and a large in-memory body to write after it.</returns>
    private (int Length, bool Streamed, ReadOnlyMemory<byte> Remaining) WriteHead(HttpRequest incoming, in HitUpstreamRequest request, int pathStart)
    {
        var writer = new RequestHeadWriter(_headBuffer);
        try
        {
            writer.WriteRequestLine(incoming.Method, request.Target.Url.AsSpan(pathStart), request.Target.Host ?? _pool.Authority);
            OutboundHeaders.Write(incoming, request, ref writer);

            var content = request.Content;
            var body = request.Body;
            var streamed = content is not null && !content.TryGetBuffered(out body);
            if (streamed)
            {
                writer.WriteContentLength(content!.Headers.ContentLength ?? 0);
            }
            else if (!body.IsEmpty || HttpMethods.IsPost(incoming.Method))
            {
                // As SocketsHttpHandler does, a POST without a body still says so.
                writer.WriteContentLength(body.Length);
            }

            writer.End();

            // A hit's body (a few hundred bytes) goes in the same write as the head: one send per hit.
            if (streamed || body.Length > 16 * 1024)
            {
                return (writer.Length, streamed, streamed ? default : body);
            }

            writer.WriteBody(body.Span);
            return (writer.Length, false, default);
        }
        finally
        {
            _headBuffer = writer.Buffer;
        }
    }

    /// <summary>Reads the final response head and puts its status and relayed headers on the visitor's response.</summary>
    public async ValueTask ReadHeadAsync(HttpResponse response, bool requestWasHead, CancellationToken cancellationToken)
    {
        (_previous, _headers) = (_headers, _previous);
        _bodyRead = false;
        _released = false;
        _head = await ResponseReader.ReadHeadAsync(_reader, requestWasHead, _headers, _previous, cancellationToken);
        Reused = true;
        Apply(_head.StatusCode, _headers, response);
    }

    internal static void Apply(int statusCode, List<KeyValuePair<string, string>> relayed, HttpResponse response)
    {
        response.StatusCode = statusCode;
        var headers = response.Headers;
        for (var i = 0; i < relayed.Count; i++)
        {
            var (name, value) = relayed[i];
            if (name.Length == 0)
            {
                continue;
            }

            if (IsRepeat(relayed, i, name))
            {
                // Several Set-Cookie headers stay several headers; never joined with commas.
                headers.Append(name, value);
            }
            else
            {
                headers[name] = value;
            }
        }
    }

    private static bool IsRepeat(List<KeyValuePair<string, string>> relayed, int index, string name)
    {
        for (var j = 0; j < index; j++)
        {
            var earlier = relayed[j].Key;
            if (ReferenceEquals(earlier, name) || string.Equals(earlier, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    public async ValueTask CopyBodyToAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        var writer = response.BodyWriter;
        bool pending;
        try
        {
            pending = await ResponseReader.CopyBodyAsync(_reader, _head, writer, cancellationToken);
            _bodyRead = true;
        }
        finally
        {
            // The exchange ends here either way: with every upstream byte read, the connection serves the next hit
            // while the visitor gets the last bytes; otherwise it is closed. Nothing below touches the connection.
            Release();
        }

        if (pending)
        {
            await ResponseReader.FlushAsync(writer, cancellationToken);
        }
    }

    /// <summary>Ends an exchange whose body was never copied: back to the pool when clean, else closed.</summary>
    public ValueTask DisposeAsync()
    {
        Release();
        return ValueTask.CompletedTask;
    }

    private void Release()
    {
        if (_released)
        {
            return;
        }

        _released = true;
        if (_bodyRead && _head.KeepAlive && NothingUnread())
        {
            _pool.Return(this);
        }
        else
        {
            _pool.Discard(this, _bodyRead ? "not reusable" : "response not read to its end");
        }
    }

    /// <summary>Bytes after the response (or the upstream's close) mean the next response would not be ours.</summary>
    private bool NothingUnread()
    {
        if (!_reader.TryRead(out var result))
        {
            return true;
        }

        var clean = result.Buffer.IsEmpty && !result.IsCompleted;
        _reader.AdvanceTo(result.Buffer.Start);
        return clean;
    }

    public void Close()
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        try
        {
            _reader.Complete();
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
        {
            // Already gone: closing is all that is left.
        }

        _stream.Dispose();
        _socket.Dispose();
        var buffer = _headBuffer;
        _headBuffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
