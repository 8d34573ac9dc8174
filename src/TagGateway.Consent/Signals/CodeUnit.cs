using System.Numerics;
using System.Runtime.CompilerServices;

namespace TagGateway.Consent.Signals;

/// <summary>
/// Char/byte conversions for the generic parsers. The typeof checks are folded away per instantiation, leaving a plain
/// widening, where the generic-math CreateTruncating path is too large for the JIT to inline in a per-character loop.
/// </summary>
internal static class CodeUnit
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ToInt<TChar>(TChar value)
        where TChar : unmanaged, IBinaryInteger<TChar>
    {
        if (typeof(TChar) == typeof(char))
        {
            return Unsafe.BitCast<TChar, char>(value);
        }

        if (typeof(TChar) == typeof(byte))
        {
            return Unsafe.BitCast<TChar, byte>(value);
        }

        return int.CreateTruncating(value);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TChar From<TChar>(char value)
        where TChar : unmanaged, IBinaryInteger<TChar>
    {
        if (typeof(TChar) == typeof(char))
        {
            return Unsafe.BitCast<char, TChar>(value);
        }

        if (typeof(TChar) == typeof(byte))
        {
            return Unsafe.BitCast<byte, TChar>((byte)value);
        }

        return TChar.CreateTruncating(value);
    }
}
