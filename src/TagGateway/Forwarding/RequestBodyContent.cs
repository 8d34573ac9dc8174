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
    private readonly ReadOnlyMemory<byte> _borrowed;

    private RequestBodyContent(Stream? source, byte[]? buffer, int bufferedLength)
    {
        _source = source;
        _buffer = buffer;
        _bufferedLength = bufferedLength;
    }

    private RequestBodyContent(ReadOnlyMemory<byte> borrowed)
    {
        _borrowed = borrowed;
        Headers.ContentLength = borrowed.Length;
    }

    /// <summary>Set when reading the visitor's body failed (as opposed to writing upstream).</summary>
    public Exception? ClientError { get; private set; }

    public static RequestBodyContent Streaming(Stream source, long contentLength)
    {
        var content = new RequestBodyContent(source, null, 0);
        content.Headers.ContentLength = contentLength;
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
    public static RequestBodyContent Borrowed(ReadOnlyMemory<byte> body) => new(body);

    /// <summary>The whole body when it is in memory (buffered or borrowed); false for a streamed one.</summary>
    public bool TryGetBuffered(out ReadOnlyMemory<byte> body)
    {
        body = _buffer is not null ? _buffer.AsMemory(0, _bufferedLength) : _borrowed;
        return _source is null;
    }

    /// <summary>Writes the body to the upstream connection (<see cref="ClientError"/> set when the visitor's side fails).</summary>
    public Task WriteToAsync(Stream destination, CancellationToken cancellationToken) =>
        SerializeToStreamAsync(destination, null, cancellationToken);

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
        if (TryGetBuffered(out var body))
        {
            await stream.WriteAsync(body, cancellationToken);
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
            ArrayPool<byte>.Shared.Return(buffer);
        }

        base.Dispose(disposing);
    }
}
