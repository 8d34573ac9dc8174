using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace TagGateway.Consent.Signals;

/// <summary>
/// Reads an application/x-www-form-urlencoded value one decoded byte at a time, without allocating.
/// Every consent parameter is ASCII by specification, so a non-ASCII character (raw or percent-encoded)
/// or a broken escape marks the value malformed instead of being decoded.
/// </summary>
internal ref struct PercentReader<TChar>
    where TChar : unmanaged, IBinaryInteger<TChar>
{
    private readonly ReadOnlySpan<TChar> _source;
    private int _index;

    public PercentReader(ReadOnlySpan<TChar> source)
    {
        _source = source;
        _index = 0;
        IsMalformed = false;
    }

    public bool IsMalformed { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryRead(out byte value)
    {
        value = 0;
        if (IsMalformed || _index >= _source.Length)
        {
            return false;
        }

        var c = CodeUnit.ToInt(_source[_index]);
        if (c == '%')
        {
            if (_index + 2 >= _source.Length)
            {
                IsMalformed = true;
                return false;
            }

            var hi = HexValue(CodeUnit.ToInt(_source[_index + 1]));
            var lo = HexValue(CodeUnit.ToInt(_source[_index + 2]));
            if ((hi | lo) < 0)
            {
                IsMalformed = true;
                return false;
            }

            c = (hi << 4) | lo;
            _index += 3;
        }
        else
        {
            if (c == '+')
            {
                c = ' ';
            }

            _index++;
        }

        if (c > 0x7F)
        {
            IsMalformed = true;
            return false;
        }

        value = (byte)c;
        return true;
    }

    /// <summary>Decodes the whole value into <paramref name="destination"/>; -1 when malformed or longer than the buffer.</summary>
    public static int Decode(ReadOnlySpan<TChar> source, Span<byte> destination)
    {
        // Fast path for longer values: nearly every real value is plain ASCII without escapes, a vectorised narrowing
        // copy. Short ones (gcs, npa…) are cheaper through the scalar loop below.
        if (source.Length > 16 && source.Length <= destination.Length)
        {
            if (typeof(TChar) == typeof(char))
            {
                var chars = MemoryMarshal.Cast<TChar, char>(source);
                if (chars.IndexOfAny('%', '+') < 0 && Ascii.FromUtf16(chars, destination, out var written) == OperationStatus.Done)
                {
                    return written;
                }
            }
            else if (typeof(TChar) == typeof(byte))
            {
                var bytes = MemoryMarshal.Cast<TChar, byte>(source);
                if (bytes.IndexOfAny((byte)'%', (byte)'+') < 0 && Ascii.IsValid(bytes))
                {
                    bytes.CopyTo(destination);
                    return bytes.Length;
                }
            }
        }

        var reader = new PercentReader<TChar>(source);
        var length = 0;
        while (reader.TryRead(out var b))
        {
            if ((uint)length >= (uint)destination.Length)
            {
                return -1;
            }

            destination[length++] = b;
        }

        return reader.IsMalformed ? -1 : length;
    }

    private static int HexValue(int c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
