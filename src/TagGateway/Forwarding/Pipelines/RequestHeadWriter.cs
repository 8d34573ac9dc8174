using System.Buffers;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace TagGateway.Forwarding.Pipelines;

/// <summary>
/// Writes an HTTP/1.1 request head as bytes into one pooled buffer, straight from the strings Kestrel and the hit
/// model already hold: no <see cref="HttpRequestMessage"/>, no header collection, no <see cref="Uri"/>.
/// </summary>
internal ref struct RequestHeadWriter : IOutboundHeaderSink
{
    // Kestrel refuses these in a request; a value of ours carrying one would split the upstream request.
    private static readonly SearchValues<char> LineBreaking = SearchValues.Create("\r\n\0");

    // tchar (RFC 9110 5.6.2): a visitor's header whose name is not a token is dropped, as SocketsHttpHandler drops it.
    private static readonly SearchValues<char> TokenChars = SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    private byte[] _buffer;
    private int _length;

    public RequestHeadWriter(byte[] buffer)
    {
        _buffer = buffer;
        _length = 0;
    }

    /// <summary>The buffer written so far; it may have been replaced by a larger one (the old one is back in the pool).</summary>
    public readonly byte[] Buffer => _buffer;

    public readonly int Length => _length;

    public void WriteRequestLine(string method, ReadOnlySpan<char> pathAndQuery, ReadOnlySpan<char> host)
    {
        if (pathAndQuery.IsEmpty || pathAndQuery.ContainsAny(LineBreaking) || pathAndQuery.Contains(' '))
        {
            throw new HttpRequestException(HttpRequestError.InvalidResponse, "The upstream request target is not sendable.");
        }

        WriteText(method);
        WriteByte((byte)' ');
        WriteText(pathAndQuery);
        WriteBytes(" HTTP/1.1\r\nHost: "u8);
        WriteValue(host);
        WriteBytes("\r\n"u8);
    }

    public void Add(string name, StringValues values, bool isContent)
    {
        if (name.Length == 0 || name.AsSpan().ContainsAnyExcept(TokenChars))
        {
            return;
        }

        if (values.Count == 1)
        {
            Add(name, values[0].AsSpan());
            return;
        }

        WriteText(name);
        WriteBytes(": "u8);
        for (var i = 0; i < values.Count; i++)
        {
            if (i > 0)
            {
                WriteBytes(", "u8);
            }

            WriteValue(values[i]);
        }

        WriteBytes("\r\n"u8);
    }

    public void Add(string name, ReadOnlySpan<char> value)
    {
        WriteText(name);
        WriteBytes(": "u8);
        WriteValue(value);
        WriteBytes("\r\n"u8);
    }

    public void WriteContentLength(long length)
    {
        WriteBytes("Content-Length: "u8);
        Ensure(20);
        length.TryFormat(_buffer.AsSpan(_length), out var written, default, CultureInfo.InvariantCulture);
        _length += written;
        WriteBytes("\r\n"u8);
    }

    public void End() => WriteBytes("\r\n"u8);

    /// <summary>Appends the body after the head (small bodies go in the same write as the head).</summary>
    public void WriteBody(ReadOnlySpan<byte> body) => WriteBytes(body);

    private void WriteValue(ReadOnlySpan<char> value)
    {
        if (value.ContainsAny(LineBreaking))
        {
            throw new HttpRequestException(HttpRequestError.InvalidResponse, "A request header value holds a line break.");
        }

        WriteText(value);
    }

    private void WriteText(ReadOnlySpan<char> text)
    {
        Ensure(text.Length);
        if (Ascii.FromUtf16(text, _buffer.AsSpan(_length), out var written) == OperationStatus.Done)
        {
            _length += written;
            return;
        }

        // Rare: a header Kestrel decoded from UTF-8 goes back as the same bytes.
        Ensure(Encoding.UTF8.GetMaxByteCount(text.Length));
        _length += Encoding.UTF8.GetBytes(text, _buffer.AsSpan(_length));
    }

    private void WriteByte(byte value)
    {
        Ensure(1);
        _buffer[_length++] = value;
    }

    private void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    private void Ensure(int count)
    {
        if (_buffer.Length - _length >= count)
        {
            return;
        }

        var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + count));
        _buffer.AsSpan(0, _length).CopyTo(larger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = larger;
    }
}
