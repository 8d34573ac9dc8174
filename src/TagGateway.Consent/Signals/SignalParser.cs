using System.Buffers;
using System.Numerics;
using System.Text;
using TagGateway.Consent.Wire;

namespace TagGateway.Consent.Signals;

/// <summary>
/// Applies the consent parameters of one query (URL or body line) on top of existing signal bits.
/// Allocation-free and exception-free: anything unexpected becomes "malformed" and decodes as Unknown.
/// </summary>
internal static class SignalParser
{
    // Per-type byte layout inside ConsentSignals._types: type t occupies bits [8t, 8t+8).
    internal const int DefaultShift = 0;
    internal const int UpdateShift = 2;
    internal const int GcsShift = 4;
    internal const uint StateMask = 0b11;
    internal const uint GcdUnreadableBit = 1u << 6;
    internal const uint GcsUnreadableBit = 1u << 7;

    private const uint GcdBits = (StateMask << DefaultShift) | (StateMask << UpdateShift) | GcdUnreadableBit;
    private const uint GcsBits = (StateMask << GcsShift) | GcsUnreadableBit;
    private const uint GcdBitsAllTypes = GcdBits * 0x01010101u;
    private const uint GcsBitsAllTypes = GcsBits * 0x01010101u;

    // A gcd is "1", a digit, then letter/digit pairs: 13l3l3l3l1 is the shortest seen; extra pairs may follow.
    private const int GcdMinLength = 10;
    private const int GcdMaxLength = 64;

    // TC and GPP strings run to a few hundred characters, rarely a few kilobytes; anything past a URL's length is garbage.
    private const int LongValueStackLength = 512;
    private const int LongValueMaxLength = 16 * 1024;

    private const string Base64Url = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    private static readonly SearchValues<byte> TcfCharacters = SearchValues.Create(Encoding.ASCII.GetBytes(Base64Url + "."));
    private static readonly SearchValues<byte> GppCharacters = SearchValues.Create(Encoding.ASCII.GetBytes(Base64Url + ".~"));

    public static void Apply<TChar>(ref uint types, ref SignalFlags flags, ref uint unknownLetters, ReadOnlySpan<TChar> query)
        where TChar : unmanaged, IBinaryInteger<TChar>
    {
        foreach (var pair in new QueryPairs<TChar>(query))
        {
            // Most GA4 parameters (v, tid, _p, ep.*, pr1, ul, sr…) are rejected on their first character; consent
            // names all start with g, n or d (or an escape).
            var name = pair.Name;
            if (name.Length < 2 || CodeUnit.ToInt(name[0]) is not ('g' or 'n' or 'd' or '%'))
            {
                continue;
            }

            var value = pair.Value;
            var parameter = Identify(name);
            if (parameter != ConsentParameter.None)
            {
                ApplyParameter(ref types, ref flags, ref unknownLetters, parameter, value);
            }
        }
    }

    private static void ApplyParameter<TChar>(ref uint types, ref SignalFlags flags, ref uint unknownLetters, ConsentParameter parameter, ReadOnlySpan<TChar> value)
        where TChar : unmanaged, IBinaryInteger<TChar>
    {
        switch (parameter)
        {
            case ConsentParameter.Gcs:
                ApplyGcs(ref types, ref flags, value);
                break;
            case ConsentParameter.Gcd:
                ApplyGcd(ref types, ref flags, ref unknownLetters, value);
                break;
            case ConsentParameter.Npa:
                flags = (flags & ~SignalFlags.NpaFamily) | ReadBinary(value, SignalFlags.NpaPresent, SignalFlags.NpaSet, SignalFlags.NpaMalformed);
                break;
            case ConsentParameter.Dma:
                flags = (flags & ~SignalFlags.DmaFamily) | ReadBinary(value, SignalFlags.DmaPresent, SignalFlags.DmaSet, SignalFlags.DmaMalformed);
                break;
            case ConsentParameter.Gdpr:
                flags = (flags & ~SignalFlags.GdprFamily) | ReadBinary(value, SignalFlags.GdprPresent, SignalFlags.GdprSet, SignalFlags.GdprMalformed);
                break;
            case ConsentParameter.DmaCps:
                // Purpose letters are undocumented: record only that purposes were sent.
                flags = value.IsEmpty ? flags & ~SignalFlags.DmaCpsPresent : flags | SignalFlags.DmaCpsPresent;
                break;
            case ConsentParameter.Gcu:
                flags |= SignalFlags.GcuPresent;
                break;
            case ConsentParameter.Gcut:
                flags |= SignalFlags.GcutPresent;
                break;
            case ConsentParameter.GdprConsent:
                flags = (flags & ~SignalFlags.TcfFamily) | SignalFlags.TcfPresent
                    | (IsWellFormedLong(value, parameter) ? SignalFlags.None : SignalFlags.TcfMalformed);
                break;
            case ConsentParameter.Gpp:
                flags = (flags & ~SignalFlags.GppFamily) | SignalFlags.GppPresent
                    | (IsWellFormedLong(value, parameter) ? SignalFlags.None : SignalFlags.GppMalformed);
                break;
            case ConsentParameter.GppSid:
                flags = (flags & ~SignalFlags.GppSidFamily) | SignalFlags.GppSidPresent
                    | (IsWellFormedLong(value, parameter) ? SignalFlags.None : SignalFlags.GppSidMalformed);
                break;
            default:
                break;
        }
    }

    internal static ConsentParameter Identify<TChar>(ReadOnlySpan<TChar> rawName)
        where TChar : unmanaged, IBinaryInteger<TChar>
    {
        if (rawName.Length is < 3 or > 12)
        {
            // Up to 36 raw characters can still spell a 12-letter name when every letter is escaped.
            return rawName.Length is >= 3 and <= 36 ? IdentifyEscaped(rawName) : ConsentParameter.None;
        }

        // Names are plain ASCII in practice: match them as they are, without a decode buffer.
        Span<byte> name = stackalloc byte[12];
        var length = 0;
        foreach (var c in rawName)
        {
            var value = CodeUnit.ToInt(c);
            if (value is '%' or '+' or > 0x7F)
            {
                return IdentifyEscaped(rawName);
            }

            name[length++] = (byte)value;
        }

        return Match(name[..length]);
    }

    private static ConsentParameter IdentifyEscaped<TChar>(ReadOnlySpan<TChar> rawName)
        where TChar : unmanaged, IBinaryInteger<TChar>
    {
        Span<byte> buffer = stackalloc byte[12];
        var length = PercentReader<TChar>.Decode(rawName, buffer);
        return length < 0 ? ConsentParameter.None : Match(buffer[..length]);
    }

    private static ConsentParameter Match(ReadOnlySpan<byte> name) => name.Length switch
    {
        3 when name.SequenceEqual("gcs"u8) => ConsentParameter.Gcs,
        3 when name.SequenceEqual("gcd"u8) => ConsentParameter.Gcd,
        3 when name.SequenceEqual("npa"u8) => ConsentParameter.Npa,
        3 when name.SequenceEqual("dma"u8) => ConsentParameter.Dma,
        3 when name.SequenceEqual("gcu"u8) => ConsentParameter.Gcu,
        3 when name.SequenceEqual("gpp"u8) => ConsentParameter.Gpp,
        4 when name.SequenceEqual("gcut"u8) => ConsentParameter.Gcut,
        4 when name.SequenceEqual("gdpr"u8) => ConsentParameter.Gdpr,
        7 when name.SequenceEqual("dma_cps"u8) => ConsentParameter.DmaCps,
        7 when name.SequenceEqual("gpp_sid"u8) => ConsentParameter.GppSid,
        12 when name.SequenceEqual("gdpr_consent"u8) => ConsentParameter.GdprConsent,
        _ => ConsentParameter.None,
    };

    private static void ApplyGcs<TChar>(ref uint types, ref SignalFlags flags, ReadOnlySpan<TChar> raw)
        where TChar : unmanaged, IBinaryInteger<TChar>
    {
        types &= ~GcsBitsAllTypes;
        flags = (flags & ~SignalFlags.GcsFamily) | SignalFlags.GcsPresent;

        Span<byte> buffer = stackalloc byte[8];
        var length = PercentReader<TChar>.Decode(raw, buffer);
        var ad = ConsentState.Unknown;
        var analytics = ConsentState.Unknown;

        // Strict G1<ad><analytics>; '-' is accepted as "not set", which only ever falls back to the region default.
        var ok = length == 4 && buffer[0] == 'G' && buffer[1] == '1'
            && TryGcsDigit(buffer[2], out ad) && TryGcsDigit(buffer[3], out analytics);
        if (!ok)
        {
            flags |= SignalFlags.GcsMalformed;
            types |= (GcsUnreadableBit << (8 * (int)ConsentType.AdStorage)) | (GcsUnreadableBit << (8 * (int)ConsentType.AnalyticsStorage));
            return;
        }

        types |= ((uint)ad << (GcsShift + (8 * (int)ConsentType.AdStorage)))
            | ((uint)analytics << (GcsShift + (8 * (int)ConsentType.AnalyticsStorage)));
    }

    private static bool TryGcsDigit(byte c, out ConsentState state)
    {
        state = c switch
        {
            (byte)'1' => ConsentState.Granted,
            (byte)'0' => ConsentState.Denied,
            _ => ConsentState.Unknown,
        };
        return c is (byte)'0' or (byte)'1' or (byte)'-';
    }

    private static void ApplyGcd<TChar>(ref uint types, ref SignalFlags flags, ref uint unknownLetters, ReadOnlySpan<TChar> raw)
        where TChar : unmanaged, IBinaryInteger<TChar>
    {
        types &= ~GcdBitsAllTypes;
        unknownLetters = 0;
        flags = (flags & ~SignalFlags.GcdFamily) | SignalFlags.GcdPresent;

        Span<byte> buffer = stackalloc byte[GcdMaxLength];
        var length = PercentReader<TChar>.Decode(raw, buffer);
        if (length < 0 || !IsWellFormedGcd(buffer[..length]))
        {
            // A truncated or garbled gcd says nothing about any type.
            flags |= SignalFlags.GcdMalformed;
            types |= GcdUnreadableBit * 0x01010101u;
            return;
        }

        for (var type = 0; type < 4; type++)
        {
            var letter = buffer[2 + (2 * type)];
            if (TryDecodeGcdLetter(letter, out var bits))
            {
                types |= bits << (8 * type);
            }
            else
            {
                // Not set for this type only: the next rank (gcs, then the region default) decides. Kept for the metric.
                unknownLetters |= (uint)letter << (8 * type);
            }
        }
    }

    /// <summary>
    /// Vallejo: n = alphabet index; default = (n >> 2) &amp; 3, update = n &amp; 3; 1 not set, 2 denied, 3 granted.
    /// False for a letter outside the nine documented ones.
    /// </summary>
    /// <remarks>
    /// Only the nine letters the encoder produces (16 + 4d + u with d, u in 1..3: l m n p q r t u v) are documented
    /// (Vallejo's parser, Simo Ahava and Markus Baersch's table; see the README). Live traffic also carries others, upper
    /// case included (gcd=13l3l3R3l5l1 on Google Ads pings of sites without consent mode): their extra bits (4 and 5) are
    /// unexplained, and g h i j k o s carry a 0 ("undefined") half; 'j' would read as "update granted" and 'f' like 'v'
    /// by the bare mask. None of them may grant, and none is a refusal either, so the type counts as not set.
    /// </remarks>
    internal static bool TryDecodeGcdLetter(byte letter, out uint bits)
    {
        var n = GcdAlphabetIndex(letter);
        var defaultCode = (n >> 2) & 3;
        var updateCode = n & 3;
        if (n is < 16 or > 31 || defaultCode == 0 || updateCode == 0)
        {
            bits = 0;
            return false;
        }

        bits = ((uint)VallejoState(defaultCode) << DefaultShift) | ((uint)VallejoState(updateCode) << UpdateShift);
        return true;
    }

    private static ConsentState VallejoState(int value) => value switch
    {
        2 => ConsentState.Denied,
        3 => ConsentState.Granted,
        _ => ConsentState.Unknown, // 1 not set
    };

    internal static int GcdAlphabetIndex(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'z' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'Z' => c - 'A' + 36,
        (byte)'-' => 62,
        (byte)'_' => 63,
        _ => -1,
    };

    private static bool IsWellFormedGcd(ReadOnlySpan<byte> gcd)
    {
        if (gcd.Length < GcdMinLength || gcd[0] != '1')
        {
            return false;
        }

        for (var i = 1; i < gcd.Length; i++)
        {
            var ok = (i & 1) == 1 ? char.IsAsciiDigit((char)gcd[i]) : GcdAlphabetIndex(gcd[i]) >= 0;
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static SignalFlags ReadBinary<TChar>(ReadOnlySpan<TChar> raw, SignalFlags present, SignalFlags set, SignalFlags malformed)
        where TChar : unmanaged, IBinaryInteger<TChar>
    {
        Span<byte> buffer = stackalloc byte[4];
        var length = PercentReader<TChar>.Decode(raw, buffer);
        if (length != 1 || buffer[0] is not ((byte)'0' or (byte)'1'))
        {
            return present | malformed;
        }

        return buffer[0] == '1' ? present | set : present;
    }

    /// <summary>Decodes a long value (TC string, GPP string) into a stack or pooled buffer and checks its shape.</summary>
    private static bool IsWellFormedLong<TChar>(ReadOnlySpan<TChar> raw, ConsentParameter parameter)
        where TChar : unmanaged, IBinaryInteger<TChar>
    {
        if (raw.IsEmpty || raw.Length > LongValueMaxLength)
        {
            return false;
        }

        // Stack buffers are zeroed on entry, so short values (gpp_sid) get a small one.
        byte[]? rented = null;
        var buffer = raw.Length <= 32 ? stackalloc byte[32]
            : raw.Length <= LongValueStackLength ? stackalloc byte[LongValueStackLength]
            : (rented = ArrayPool<byte>.Shared.Rent(raw.Length));
        try
        {
            // Decoding never lengthens a value, so the buffer always suffices and -1 means malformed.
            var length = PercentReader<TChar>.Decode(raw, buffer);
            ReadOnlySpan<byte> value = buffer[..Math.Max(length, 0)];
            return length > 0 && parameter switch
            {
                ConsentParameter.GdprConsent => IsWellFormedTcf(value),
                ConsentParameter.Gpp => IsWellFormedGpp(value),
                _ => IsWellFormedGppSid(value),
            };
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>TCF TC string: base64url segments separated by '.', none empty.</summary>
    private static bool IsWellFormedTcf(ReadOnlySpan<byte> value) =>
        value.IndexOfAnyExcept(TcfCharacters) < 0
        && value[0] != '.' && value[^1] != '.' && value.IndexOf(".."u8) < 0;

    /// <summary>GPP string: a header section starting with 'D', then '~'-separated base64url sections ('.' marks sub-sections), none empty.</summary>
    private static bool IsWellFormedGpp(ReadOnlySpan<byte> value) =>
        value[0] == 'D' && value.IndexOfAnyExcept(GppCharacters) < 0
        && value[^1] != '~' && value.IndexOf("~~"u8) < 0;

    /// <summary>GPP section ids: integers of up to five digits (or -1) separated by ',' or '_'.</summary>
    private static bool IsWellFormedGppSid(ReadOnlySpan<byte> value)
    {
        var digits = 0;
        var sign = false;
        foreach (var b in value)
        {
            if (b is (byte)',' or (byte)'_')
            {
                if (digits == 0)
                {
                    return false;
                }

                digits = 0;
                sign = false;
            }
            else if (b == '-' && digits == 0 && !sign)
            {
                sign = true;
            }
            else if (char.IsAsciiDigit((char)b) && digits < 5)
            {
                digits++;
            }
            else
            {
                return false;
            }
        }

        return digits > 0;
    }
}

internal enum ConsentParameter
{
    None = 0,
    Gcs,
    Gcd,
    Npa,
    Dma,
    DmaCps,
    Gcu,
    Gcut,
    Gdpr,
    GdprConsent,
    Gpp,
    GppSid,
}
