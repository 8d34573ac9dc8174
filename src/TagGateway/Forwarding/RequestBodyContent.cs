using System.Buffers;
using System.Net;

namespace TagGateway.Forwarding;

/// <summary>
/// The visitor's request body on its way upstream. Streams when the length is declared; a chunked body (never sent
/// by browsers) is first read into one pooled buffer of at most the body limit, so an oversized body is refused
/// before a byte reaches Google. Records whether the client side failed, so the caller can tell 400/413 from 502.
/// </summary>
internal sealed class RequestBodyContent : HttpContent
{
    private readonly Stream? _source;
    private byte[]? _buffer;
    private readonly int _bufferedLength;
    private byte[]? _capture;
    private int _captured;
    private bool _borrowed;

    private RequestBodyContent(Stream? source, byte[]? buffer, int bufferedLength)
    {
        _source = source;
        _buffer = buffer;
        _bufferedLength = bufferedLength;
    }

    /// <summary>The bytes sent upstream, when capture was asked for (a tee, not a second read of the body).</summary>
    public ReadOnlySpan<byte> Captured => _buffer is not null ? _buffer.AsSpan(0, _bufferedLength) : _capture.AsSpan(0, _captured);

    /// <summary>Set when reading the visitor's body failed (as opposed to writing upstream).</summary>
    public Exception? ClientError { get; private set; }

    /// <param name="capture">Keep a copy of what streams past (pooled, at most the declared length) for observers.</param>
    public static RequestBodyContent Streaming(Stream source, long contentLength, bool capture = false)
    {
        var content = new RequestBodyContent(source, null, 0);
        content.Headers.ContentLength = contentLength;
        if (capture && contentLength > 0)
        {
            content._capture = ArrayPool<byte>.Shared.Rent((int)contentLength);
        }

        return content;
    }

    /// <summary>Reads a body of undeclared length; false when it exceeds <paramref name="limit"/>.</summary>
    public static async ValueTask<(RequestBodyContent? Content, bool TooLarge)> BufferAsync(Stream source, int limit, CancellationToken cancellationToken)
    {
        var (buffer, length) = await ReadPooledAsync(source, limit, cancellationToken);
        if (buffer is null)
        {
            return (null, true);
        }

        var content = new RequestBodyContent(null, buffer, length);
        content.Headers.ContentLength = length;
        return (content, false);
    }

    /// <summary>A body already read by the caller, which keeps owning the buffer (disposing this returns nothing).</summary>
    public static RequestBodyContent Borrowed(byte[] buffer, int length)
    {
        var content = new RequestBodyContent(null, buffer, length) { _borrowed = true };
        content.Headers.ContentLength = length;
        return content;
    }

    /// <summary>
    /// Reads a whole body into one pooled buffer; a null buffer when it exceeds <paramref name="limit"/> (nothing is
    /// kept). The caller returns the buffer to <see cref="ArrayPool{T}.Shared"/>.
    /// </summary>
    public static async ValueTask<(byte[]? Buffer, int Length)> ReadPooledAsync(Stream source, int limit, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Min(limit + 1, 16 * 1024));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (buffer.Length > limit)
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                        return (null, 0);
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, limit + 1));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                var read = await source.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return (null, 0);
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        return (buffer, length);
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        if (_buffer is not null)
        {
            await stream.WriteAsync(_buffer.AsMemory(0, _bufferedLength), cancellationToken);
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (true)
            {
                int read;
                try
                {
                    read = await _source!.ReadAsync(buffer, cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    ClientError = ex;
                    throw;
                }

                if (read == 0)
                {
                    return;
                }

                if (_capture is { } capture)
                {
                    var room = Math.Min(read, capture.Length - _captured);
                    buffer.AsSpan(0, room).CopyTo(capture.AsSpan(_captured));
                    _captured += room;
                }

                await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = Headers.ContentLength ?? 0;
        return Headers.ContentLength.HasValue;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && _buffer is { } buffer)
        {
            _buffer = null;
            if (!_borrowed)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        if (disposing && _capture is { } capture)
        {
            _capture = null;
            ArrayPool<byte>.Shared.Return(capture);
        }

        base.Dispose(disposing);
    }
}
