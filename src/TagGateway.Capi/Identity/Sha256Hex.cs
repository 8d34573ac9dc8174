using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace TagGateway.Capi.Identity;

/// <summary>SHA-256 as 64 lower-case hex characters, over UTF-8, without intermediate strings.</summary>
internal static class Sha256Hex
{
    private const int StackLimit = 512;
    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdefABCDEF");

    /// <summary>A value that already is a SHA-256 hex digest: passed through (lower-cased), never hashed twice.</summary>
    public static bool IsHash(ReadOnlySpan<char> value) => value.Length == 64 && !value.ContainsAnyExcept(HexDigits);

    public static string Hash(ReadOnlySpan<char> normalized)
    {
        var max = Encoding.UTF8.GetMaxByteCount(normalized.Length);
        byte[]? rented = null;
        var utf8 = max <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var length = Encoding.UTF8.GetBytes(normalized, utf8);
            Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(utf8[..length], digest);
            return Convert.ToHexStringLower(digest);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Lower-cases an existing digest (hex from a client may be upper case).</summary>
    public static string PassThrough(ReadOnlySpan<char> hash) => string.Create(hash.Length, hash, static (dest, src) => src.ToLowerInvariant(dest));

    /// <summary>gtag's user data carries base64url SHA-256 (hex also accepted); converts either to hex, null when neither.</summary>
    public static string? FromGtag(ReadOnlySpan<char> value)
    {
        if (IsHash(value))
        {
            return PassThrough(value);
        }

        if (value.Length != 43)
        {
            return null;
        }

        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        return Base64Url.TryDecodeFromChars(value, digest, out var written) && written == SHA256.HashSizeInBytes
            ? Convert.ToHexStringLower(digest)
            : null;
    }
}
