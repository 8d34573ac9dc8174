using System.Buffers;

namespace TagGateway.Hits;

/// <summary>
/// Parameter names a lenient decoder could read as one of ours: <c>ID</c>, <c>%69d</c>, <c>%2569d</c>, <c>id[]</c>,
/// <c>id+</c>. We compare names verbatim (as Google's tag writes them); a spelling that only a decoder would fold into
/// one of ours is refused rather than guessed at, so what we checked is what the upstream reads. One check for the
/// script loader's <c>id</c> and a hit's <c>tid</c>.
/// </summary>
internal static class WireNames
{
    private const int StackLength = 128;
    private static readonly SearchValues<char> NeedsDecoding = SearchValues.Create("%+[ \t");

    /// <summary>Whether <paramref name="name"/> is not <paramref name="target"/> verbatim but decodes to it (case, escapes, brackets, blanks).</summary>
    public static bool IsDisguised(ReadOnlySpan<char> name, string target)
    {
        if (name.SequenceEqual(target))
        {
            return false;
        }

        if (!name.ContainsAny(NeedsDecoding))
        {
            // The common case: a plain name is a disguise only as another case of the target.
            return name.Equals(target, StringComparison.OrdinalIgnoreCase);
        }

        char[]? rented = null;
        var buffer = name.Length <= StackLength ? stackalloc char[StackLength] : (rented = ArrayPool<char>.Shared.Rent(name.Length));
        try
        {
            var decoded = buffer[..name.Length];
            name.CopyTo(decoded);

            // Decoding can only shorten a name; a few rounds undo double (%2569) and triple (%252569) encoding.
            for (var round = 0; round < 4; round++)
            {
                var before = decoded.Length;
                decoded = decoded[..PercentDecodeInPlace(decoded)];
                if (decoded.Length == before && !decoded.Contains('+'))
                {
                    break;
                }
            }

            var plain = decoded.Trim();
            var bracket = plain.IndexOf('[');
            if (bracket >= 0)
            {
                plain = plain[..bracket].Trim();
            }

            return plain.Equals(target, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }
    }

    /// <inheritdoc cref="IsDisguised(ReadOnlySpan{char}, string)"/>
    public static bool IsDisguised(ReadOnlySpan<byte> name, string target)
    {
        // A name longer than this cannot decode to a short target in the rounds we undo.
        Span<char> chars = stackalloc char[StackLength];
        if (name.Length > chars.Length)
        {
            return false;
        }

        for (var i = 0; i < name.Length; i++)
        {
            chars[i] = (char)name[i];
        }

        return IsDisguised(chars[..name.Length], target);
    }

    /// <summary>Decodes <c>%XX</c> escapes (as bytes below 0x80: a parameter name is ASCII) and <c>+</c> in place; returns the new length.</summary>
    private static int PercentDecodeInPlace(Span<char> text)
    {
        var write = 0;
        for (var read = 0; read < text.Length; read++)
        {
            var c = text[read];
            if (c == '+')
            {
                c = ' ';
            }
            else if (c == '%' && read + 2 < text.Length && char.IsAsciiHexDigit(text[read + 1]) && char.IsAsciiHexDigit(text[read + 2]))
            {
                c = (char)((HexValue(text[read + 1]) << 4) | HexValue(text[read + 2]));
                read += 2;
            }

            text[write++] = c;
        }

        return write;
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
