using System.Numerics;

namespace TagGateway.Hits;

/// <summary>
/// Parameter names a lenient decoder could read as another: <c>TID</c>, <c>%74id</c>, <c>tid[]</c>. We compare names
/// verbatim (as Google's tag writes them); a spelling that only a decoder would fold into one of ours is refused
/// rather than guessed at, so what we checked is what the upstream reads.
/// </summary>
internal static class WireNames
{
    /// <summary>Whether <paramref name="name"/> is not <paramref name="target"/> verbatim but decodes to it (case, escapes, brackets).</summary>
    public static bool LooksLike(ReadOnlySpan<char> name, ReadOnlySpan<char> target) => LooksLike<char>(name, target);

    /// <inheritdoc cref="LooksLike(ReadOnlySpan{char}, ReadOnlySpan{char})"/>
    public static bool LooksLike(ReadOnlySpan<byte> name, ReadOnlySpan<byte> target)
    {
        Span<char> chars = stackalloc char[target.Length];
        for (var i = 0; i < target.Length; i++)
        {
            chars[i] = (char)target[i];
        }

        return LooksLike<byte>(name, chars);
    }

    private static bool LooksLike<TChar>(ReadOnlySpan<TChar> name, ReadOnlySpan<char> target)
        where TChar : unmanaged, IBinaryInteger<TChar>
    {
        // Each target character can be spelled as at most three (%XX), plus a bracket suffix.
        if (name.IsEmpty || name.Length > (target.Length * 3) + 8)
        {
            return false;
        }

        Span<char> decoded = stackalloc char[name.Length];
        var length = 0;
        for (var i = 0; i < name.Length; i++)
        {
            var c = int.CreateTruncating(name[i]);
            if (c == '[')
            {
                break;
            }

            if (c == '%' && i + 2 < name.Length
                && HexValue(int.CreateTruncating(name[i + 1])) is var high and >= 0
                && HexValue(int.CreateTruncating(name[i + 2])) is var low and >= 0)
            {
                c = (high << 4) | low;
                i += 2;
            }

            decoded[length++] = (char)c;
        }

        return decoded[..length].Equals(target, StringComparison.OrdinalIgnoreCase);
    }

    private static int HexValue(int c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
