using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace TagGateway.Consent.Logging;

/// <summary>
/// Salted SHA-256 of a client id, as HMAC-SHA256 keyed with the configured salt: the keyed form is the standard way to
/// salt a hash (no length-extension, no ambiguity between salt and input). Truncated to 128 bits: enough to join log
/// lines of one client, useless for recovering the id without the salt.
/// </summary>
internal static class ClientIdHasher
{
    private const int StackLimit = 256;

    public static string? Hash(ReadOnlySpan<byte> key, ReadOnlySpan<char> clientId)
    {
        if (clientId.IsEmpty || key.IsEmpty)
        {
            return null;
        }

        var maxBytes = Encoding.UTF8.GetMaxByteCount(clientId.Length);
        byte[]? rented = null;
        var utf8 = maxBytes <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(maxBytes));
        try
        {
            var length = Encoding.UTF8.GetBytes(clientId, utf8);
            Span<byte> hash = stackalloc byte[HMACSHA256.HashSizeInBytes];
            HMACSHA256.HashData(key, utf8[..length], hash);
            return Convert.ToHexStringLower(hash[..16]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }
}
