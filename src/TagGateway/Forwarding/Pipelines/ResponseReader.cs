using System.Buffers;
using System.IO.Pipelines;

namespace TagGateway.Forwarding.Pipelines;

/// <summary>
/// Reads an HTTP/1.1 response from an upstream connection's <see cref="PipeReader"/>: interim 1xx heads skipped,
/// the final head parsed strictly (<see cref="ResponseHeadParser"/>), then the body relayed to a
/// <see cref="PipeWriter"/> exactly as framed (Content-Length or de-chunked). Every malformed or truncated input is
/// an <see cref="UpstreamProtocolException"/>.
/// </summary>
internal static class ResponseReader
{
    private const int MaxInterimResponses = 8;
    private const int MaxChunkLineBytes = 1024;

    // Control characters other than HTAB, and DEL.
    private static readonly SearchValues<byte> ForbiddenInLine = SearchValues.Create(
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127]);

    public static async ValueTask<ResponseHead> ReadHeadAsync(PipeReader reader, bool requestWasHead, List<KeyValuePair<string, string>> headers, List<KeyValuePair<string, string>>? previous, CancellationToken cancellationToken)
    {
        var interim = 0;
        var received = false;
        while (true)
        {
            var scanned = 0L;
            ReadResult result;
            long headLength;
            while (true)
            {
                result = await reader.ReadAsync(cancellationToken);
                var buffer = result.Buffer;
                received |= !buffer.IsEmpty;
                if (ResponseHeadParser.TryFindHeadEnd(buffer, ref scanned, out headLength))
                {
                    break;
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    throw new UpstreamProtocolException(received ? "The upstream closed the connection inside the response head." : "The upstream closed the connection without responding.")
                    {
                        NothingReceived = !received,
                    };
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
            }

            var headBytes = result.Buffer.Slice(0, headLength);
            headers.Clear();
            var head = Parse(headBytes, requestWasHead, headers, previous);
            reader.AdvanceTo(headBytes.End);
            if (head.StatusCode >= 200)
            {
                return head;
            }

            // 100 Continue, 102, 103 Early Hints: informational, skipped. 101 would switch protocols we never asked for.
            if (head.StatusCode == 101 || ++interim > MaxInterimResponses)
            {
                throw new UpstreamProtocolException("An unexpected informational response from the upstream.");
            }
        }
    }

    private static ResponseHead Parse(in ReadOnlySequence<byte> head, bool requestWasHead, List<KeyValuePair<string, string>> headers, List<KeyValuePair<string, string>>? previous)
    {
        if (head.IsSingleSegment)
        {
            return ResponseHeadParser.Parse(head.FirstSpan, requestWasHead, headers, previous);
        }

        var length = (int)head.Length;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            head.CopyTo(rented);
            return ResponseHeadParser.Parse(rented.AsSpan(0, length), requestWasHead, headers, previous);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Relays the body framed by <paramref name="head"/>; returns once its last byte is read.</summary>
    /// <remarks>
    /// Written bytes are flushed only before waiting for more; the caller flushes the rest after freeing the
    /// connection (a body that arrived whole is then one flush).
    /// </remarks>
    /// <returns>Whether written bytes await a flush.</returns>
    public static async ValueTask<bool> CopyBodyAsync(PipeReader reader, ResponseHead head, PipeWriter destination, CancellationToken cancellationToken) =>
        head.Framing switch
        {
            BodyFraming.None => false,
            BodyFraming.ContentLength => await CopyExactlyAsync(reader, head.ContentLength, destination, pending: false, cancellationToken),
            BodyFraming.UntilClose => await CopyToEndAsync(reader, destination, cancellationToken),
            _ => await CopyChunkedAsync(reader, destination, cancellationToken),
        };

    /// <summary>Reads more, first flushing what was written (<paramref name="pending"/>) so memory stays one read's worth.</summary>
    private static async ValueTask<ReadResult> ReadAsync(PipeReader reader, PipeWriter destination, bool pending, CancellationToken cancellationToken)
    {
        if (pending || !reader.TryRead(out var result))
        {
            if (pending)
            {
                await FlushAsync(destination, cancellationToken);
            }

            result = await reader.ReadAsync(cancellationToken);
        }

        return result;
    }

    /// <returns>Whether written bytes await a flush.</returns>
    private static async ValueTask<bool> CopyExactlyAsync(PipeReader reader, long length, PipeWriter destination, bool pending, CancellationToken cancellationToken)
    {
        while (length > 0)
        {
            var result = await ReadAsync(reader, destination, pending, cancellationToken);
            var buffer = result.Buffer;
            if (buffer.IsEmpty && (result.IsCompleted || result.IsCanceled))
            {
                throw new UpstreamProtocolException("The upstream closed the connection inside the response body.");
            }

            var take = Math.Min(length, buffer.Length);
            var body = buffer.Slice(0, take);
            Write(body, destination);
            reader.AdvanceTo(body.End);
            length -= take;
            pending = true;
        }

        return pending;
    }

    private static async ValueTask<bool> CopyToEndAsync(PipeReader reader, PipeWriter destination, CancellationToken cancellationToken)
    {
        var pending = false;
        while (true)
        {
            var result = await ReadAsync(reader, destination, pending, cancellationToken);
            var buffer = result.Buffer;
            Write(buffer, destination);
            reader.AdvanceTo(buffer.End);
            pending |= !buffer.IsEmpty;
            if (result.IsCompleted || result.IsCanceled)
            {
                return pending;
            }
        }
    }

    private static async ValueTask<bool> CopyChunkedAsync(PipeReader reader, PipeWriter destination, CancellationToken cancellationToken)
    {
        var trailerBytes = 0;
        var pending = false;
        while (true)
        {
            long size;
            while (true)
            {
                var result = await ReadAsync(reader, destination, pending, cancellationToken);
                pending = false;
                var buffer = result.Buffer;
                if (TryReadChunkSize(ref buffer, out size))
                {
                    reader.AdvanceTo(buffer.Start);
                    break;
                }

                ThrowIfEnded(result, "a chunk size");
                reader.AdvanceTo(buffer.Start, buffer.End);
            }

            if (size == 0)
            {
                while (true)
                {
                    var result = await ReadAsync(reader, destination, pending: false, cancellationToken);
                    var buffer = result.Buffer;
                    if (TryReadTrailers(ref buffer, ref trailerBytes))
                    {
                        reader.AdvanceTo(buffer.Start);
                        return false;
                    }

                    ThrowIfEnded(result, "the trailer section");
                    reader.AdvanceTo(buffer.Start, buffer.End);
                }
            }

            pending = await CopyExactlyAsync(reader, size, destination, pending, cancellationToken);
            while (true)
            {
                var result = await ReadAsync(reader, destination, pending, cancellationToken);
                pending = false;
                var buffer = result.Buffer;
                if (buffer.Length >= 2)
                {
                    if (!IsCrLf(buffer))
                    {
                        throw new UpstreamProtocolException("A chunk is not followed by CRLF.");
                    }

                    reader.AdvanceTo(buffer.GetPosition(2));
                    break;
                }

                ThrowIfEnded(result, "a chunk");
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
    }

    private static bool IsCrLf(in ReadOnlySequence<byte> buffer)
    {
        Span<byte> end = stackalloc byte[2];
        buffer.Slice(0, 2).CopyTo(end);
        return end.SequenceEqual("\r\n"u8);
    }

    private static void ThrowIfEnded(ReadResult result, string where)
    {
        if (result.IsCompleted || result.IsCanceled)
        {
            throw new UpstreamProtocolException($"The upstream closed the connection inside {where}.");
        }
    }

    /// <summary>Reads "hex [; extension] CRLF"; false when the line is not complete yet.</summary>
    internal static bool TryReadChunkSize(ref ReadOnlySequence<byte> buffer, out long size)
    {
        size = 0;
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> lineBytes, "\r\n"u8, advancePastDelimiter: true))
        {
            if (buffer.Length > MaxChunkLineBytes)
            {
                throw new UpstreamProtocolException("A chunk size line exceeds the limit.");
            }

            return false;
        }

        if (lineBytes.Length > MaxChunkLineBytes)
        {
            throw new UpstreamProtocolException("A chunk size line exceeds the limit.");
        }

        Span<byte> line = stackalloc byte[(int)lineBytes.Length];
        lineBytes.CopyTo(line);
        var digits = 0;
        while (digits < line.Length && char.IsAsciiHexDigit((char)line[digits]))
        {
            if (size > (long.MaxValue >> 4))
            {
                throw new UpstreamProtocolException("A chunk size overflows.");
            }

            size = (size << 4) | (long)HexValue(line[digits]);
            digits++;
        }

        if (digits == 0)
        {
            throw new UpstreamProtocolException("A chunk size is not hexadecimal.");
        }

        var rest = line[digits..];
        if (!rest.IsEmpty)
        {
            // chunk-ext: optional whitespace, then ';' and printable text; anything else is not a chunk size.
            var trimmed = rest.TrimStart(" \t"u8);
            if (trimmed.IsEmpty || trimmed[0] != ';' || trimmed.ContainsAny(ForbiddenInLine))
            {
                throw new UpstreamProtocolException("A malformed chunk size line.");
            }
        }

        buffer = buffer.Slice(reader.Position);
        return true;
    }

    /// <summary>Reads (and drops) trailer fields up to the blank line; false when more bytes are needed.</summary>
    internal static bool TryReadTrailers(ref ReadOnlySequence<byte> buffer, ref int trailerBytes)
    {
        while (true)
        {
            var reader = new SequenceReader<byte>(buffer);
            if (!reader.TryReadTo(out ReadOnlySequence<byte> line, "\r\n"u8, advancePastDelimiter: true))
            {
                if (trailerBytes + buffer.Length > ResponseHeadParser.MaxHeadBytes)
                {
                    throw new UpstreamProtocolException("The trailer section exceeds the limit.");
                }

                return false;
            }

            trailerBytes += (int)reader.Consumed;
            if (trailerBytes > ResponseHeadParser.MaxHeadBytes)
            {
                throw new UpstreamProtocolException("The trailer section exceeds the limit.");
            }

            buffer = buffer.Slice(reader.Position);
            if (line.IsEmpty)
            {
                return true;
            }

            // A trailer field is a header line: a name, a colon, no control characters and no folding.
            new SequenceReader<byte>(line).TryPeek(out var first);
            if (first is (byte)' ' or (byte)'\t' or (byte)':' || line.PositionOf((byte)':') is null
                || (line.IsSingleSegment ? line.FirstSpan.ContainsAny(ForbiddenInLine) : ContainsForbidden(line)))
            {
                throw new UpstreamProtocolException("A malformed trailer field.");
            }
        }
    }

    private static bool ContainsForbidden(in ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
        {
            if (segment.Span.ContainsAny(ForbiddenInLine))
            {
                return true;
            }
        }

        return false;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        _ => b - 'A' + 10,
    };

    private static void Write(in ReadOnlySequence<byte> body, PipeWriter destination)
    {
        foreach (var segment in body)
        {
            destination.Write(segment.Span);
        }
    }

    public static async ValueTask FlushAsync(PipeWriter destination, CancellationToken cancellationToken)
    {
        var flushed = await destination.FlushAsync(cancellationToken);
        if (flushed.IsCanceled || flushed.IsCompleted)
        {
            throw new IOException("The visitor's connection closed while the body was relayed.");
        }
    }
}
