using System.Buffers;
using System.Collections.Frozen;
using System.Text;

namespace TagGateway.Forwarding.Pipelines;

/// <summary>
/// A strict HTTP/1.1 response-head parser (RFC 9112): anything a lenient parser would have to guess at (bare CR or
/// LF, obs-fold, a space before the colon, control characters, both or several framing headers, a Content-Length
/// that is not one plain number, a transfer coding other than chunked) is refused, since a proxy that guesses
/// differently from its upstream relays a wrong body or desynchronises the connection.
/// </summary>
internal static class ResponseHeadParser
{
    /// <summary>Google answers with large Set-Cookie and debug headers (its nginx sample raises buffers to 128k).</summary>
    public const int MaxHeadBytes = 128 * 1024;

    public const int MaxHeaders = 256;

    // tchar (RFC 9110 5.6.2).
    private static readonly SearchValues<byte> TokenChars = SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    // Control characters other than HTAB, and DEL: never in a field value or reason phrase (CR and LF included).
    private static readonly SearchValues<byte> ForbiddenInValue = SearchValues.Create(
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 127]);

    private static readonly FrozenDictionary<string, string> KnownNames = new[]
    {
        "Access-Control-Allow-Credentials", "Access-Control-Allow-Headers", "Access-Control-Allow-Methods",
        "Access-Control-Allow-Origin", "Access-Control-Expose-Headers", "Age", "Cache-Control", "Content-Disposition",
        "Content-Encoding", "Content-Language", "Content-Length", "Content-Security-Policy", "Content-Security-Policy-Report-Only",
        "Content-Type", "Cross-Origin-Opener-Policy", "Cross-Origin-Resource-Policy", "Date", "ETag", "Expires",
        "Last-Modified", "Location", "P3P", "Pragma", "Report-To", "Set-Cookie", "Strict-Transport-Security",
        "Timing-Allow-Origin", "Vary", "X-Content-Type-Options", "X-Frame-Options", "X-XSS-Protection",
        // Never relayed, but named so a steady upstream's heads allocate nothing for them either.
        "Server", "Alt-Svc", "Keep-Alive", "Proxy-Connection", "Trailer", "Upgrade",
    }.ToFrozenDictionary(static name => name, StringComparer.OrdinalIgnoreCase);

    private static readonly FrozenDictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> KnownNameLookup =
        KnownNames.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>
    /// Looks for the blank line that ends a head. <paramref name="scanned"/> carries how far earlier calls looked, so
    /// a head arriving a byte at a time is searched once, not once per byte. Throws past <see cref="MaxHeadBytes"/>.
    /// </summary>
    public static bool TryFindHeadEnd(in ReadOnlySequence<byte> buffer, ref long scanned, out long headLength)
    {
        var from = Math.Max(0, scanned - 3);
        var reader = new SequenceReader<byte>(buffer.Slice(from));
        if (reader.TryReadTo(out ReadOnlySequence<byte> _, "\r\n\r\n"u8, advancePastDelimiter: true))
        {
            headLength = from + reader.Consumed;
            if (headLength > MaxHeadBytes)
            {
                throw new UpstreamProtocolException("The response head exceeds the limit.");
            }

            return true;
        }

        scanned = buffer.Length;
        if (buffer.Length >= MaxHeadBytes)
        {
            throw new UpstreamProtocolException("The response head exceeds the limit.");
        }

        headLength = 0;
        return false;
    }

    /// <summary>
    /// Parses one complete head (status line to the blank line, both included). Relayed headers are added to
    /// <paramref name="headers"/>; a value equal to the one at the same place in <paramref name="previous"/> (the last
    /// response on this connection) reuses its string, so a steady upstream's heads cost no new strings.
    /// </summary>
    public static ResponseHead Parse(ReadOnlySpan<byte> head, bool requestWasHead, List<KeyValuePair<string, string>> headers, List<KeyValuePair<string, string>>? previous = null)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var lineEnd = head.IndexOf("\r\n"u8);
        if (lineEnd < 0)
        {
            throw new UpstreamProtocolException("The response head is not terminated.");
        }

        var (status, http11) = ParseStatusLine(head[..lineEnd]);
        var rest = head[(lineEnd + 2)..];
        long contentLength = -1;
        var chunked = false;
        var sawTransferEncoding = false;
        var close = !http11;
        var count = 0;
        while (true)
        {
            lineEnd = rest.IndexOf("\r\n"u8);
            if (lineEnd < 0)
            {
                throw new UpstreamProtocolException("The response head is not terminated.");
            }

            var line = rest[..lineEnd];
            rest = rest[(lineEnd + 2)..];
            if (line.IsEmpty)
            {
                if (!rest.IsEmpty)
                {
                    throw new UpstreamProtocolException("Bytes follow the response head inside it.");
                }

                break;
            }

            if (++count > MaxHeaders)
            {
                throw new UpstreamProtocolException("The response has too many header fields.");
            }

            if (line[0] is (byte)' ' or (byte)'\t')
            {
                throw new UpstreamProtocolException("Obsolete line folding in the response head.");
            }

            var colon = line.IndexOf((byte)':');
            if (colon <= 0 || line[..colon].ContainsAnyExcept(TokenChars))
            {
                throw new UpstreamProtocolException("A malformed header field name in the response.");
            }

            var name = line[..colon];
            var value = line[(colon + 1)..].Trim(" \t"u8);
            if (value.ContainsAny(ForbiddenInValue))
            {
                throw new UpstreamProtocolException("A control character in a response header value.");
            }

            if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                if (contentLength >= 0 || !TryParseContentLength(value, out contentLength))
                {
                    throw new UpstreamProtocolException("A duplicate or invalid Content-Length in the response.");
                }
            }
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
            {
                // Only "chunked" alone: a coding we do not decode (or a list) would leave the body's end unknown.
                if (sawTransferEncoding || !Ascii.EqualsIgnoreCase(value, "chunked"u8))
                {
                    throw new UpstreamProtocolException("An unsupported or duplicate Transfer-Encoding in the response.");
                }

                sawTransferEncoding = chunked = true;
                continue;
            }
            else if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
            {
                close |= HasToken(value, "close"u8);
                continue;
            }

            AddHeader(name, value, headers, previous);
        }

        if (chunked && contentLength >= 0)
        {
            throw new UpstreamProtocolException("The response has both Content-Length and Transfer-Encoding.");
        }

        var framing = status < 200 || status is 204 or 304 || requestWasHead
            ? BodyFraming.None
            : chunked ? BodyFraming.Chunked : contentLength >= 0 ? BodyFraming.ContentLength : BodyFraming.UntilClose;
        return new ResponseHead(status, framing, Math.Max(contentLength, 0), KeepAlive: !close && framing != BodyFraming.UntilClose);
    }

    private static (int Status, bool Http11) ParseStatusLine(ReadOnlySpan<byte> line)
    {
        // "HTTP/1.1 200 OK": the version, three digits, and an optional reason phrase we do not relay.
        if (line.Length < 12 || !line.StartsWith("HTTP/1."u8) || line[7] is not ((byte)'0' or (byte)'1') || line[8] != ' '
            || !char.IsAsciiDigit((char)line[9]) || !char.IsAsciiDigit((char)line[10]) || !char.IsAsciiDigit((char)line[11])
            || (line.Length > 12 && line[12] != ' ') || line.ContainsAny(ForbiddenInValue))
        {
            throw new UpstreamProtocolException("A malformed response status line.");
        }

        var status = ((line[9] - '0') * 100) + ((line[10] - '0') * 10) + (line[11] - '0');
        if (status is < 100 or > 599)
        {
            throw new UpstreamProtocolException("A response status outside 100-599.");
        }

        return (status, line[7] == '1');
    }

    private static bool TryParseContentLength(ReadOnlySpan<byte> value, out long length)
    {
        length = 0;
        if (value.IsEmpty || value.Length > 18)
        {
            return false;
        }

        foreach (var b in value)
        {
            if (!char.IsAsciiDigit((char)b))
            {
                return false;
            }

            length = (length * 10) + (b - '0');
        }

        return true;
    }

    private static bool HasToken(ReadOnlySpan<byte> value, ReadOnlySpan<byte> token)
    {
        foreach (var range in value.Split((byte)','))
        {
            if (Ascii.EqualsIgnoreCase(value[range].Trim(" \t"u8), token))
            {
                return true;
            }
        }

        return false;
    }

    private static void AddHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, List<KeyValuePair<string, string>> headers, List<KeyValuePair<string, string>>? previous)
    {
        var index = headers.Count;
        if (previous is not null && index < previous.Count)
        {
            var (previousName, previousValue) = previous[index];
            if (previousName.Length == name.Length && Ascii.EqualsIgnoreCase(name, previousName) && Ascii.Equals(value, previousValue))
            {
                headers.Add(previous[index]);
                return;
            }
        }

        var nameString = InternName(name);
        if (HeaderRules.IsDroppedResponseHeader(nameString))
        {
            // Kept in the list's order (so the next response can match it) but marked: the empty name is never relayed.
            headers.Add(new(string.Empty, string.Empty));
            return;
        }

        headers.Add(new(nameString, Encoding.Latin1.GetString(value)));
    }

    private static string InternName(ReadOnlySpan<byte> name)
    {
        if (name.Length <= 64)
        {
            Span<char> chars = stackalloc char[name.Length];
            Ascii.ToUtf16(name, chars, out _);
            if (KnownNameLookup.TryGetValue(chars, out var known))
            {
                return known;
            }

            return new string(chars);
        }

        return Encoding.ASCII.GetString(name);
    }
}
