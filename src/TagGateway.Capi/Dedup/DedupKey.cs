using System.Security.Cryptography;
using System.Text;
using TagGateway.Capi.Model;

namespace TagGateway.Capi.Dedup;

/// <summary>
/// The ledger key of (destination, event name, event id): the first 128 bits of SHA-256 over the three, length-prefixed
/// so no two triples collide by concatenation. Fixed size keeps 48 hours of keys small in memory and on disk.
/// </summary>
internal static class DedupKey
{
    public static UInt128 Of(CapiDestination destination, string eventName, string eventId)
    {
        var length = 1 + 4 + Encoding.UTF8.GetByteCount(eventName) + 4 + Encoding.UTF8.GetByteCount(eventId);
        var buffer = length <= 512 ? stackalloc byte[length] : new byte[length];
        buffer[0] = (byte)destination;
        var offset = 1;
        offset += Write(buffer[offset..], eventName);
        Write(buffer[offset..], eventId);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(buffer, digest);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(digest);
    }

    /// <summary>
    /// A gap-fill mark (GapFill/): "the browser's hit of (event name, id) reached Google Analytics" or "the server's copy
    /// was sent there". Its first byte is outside the destinations', so no mark can equal a ledger key.
    /// <paramref name="idKind"/> tells a transaction id ('t') from an event id ('e'); no string is built for it.
    /// </summary>
    public static UInt128 Twin(bool browser, string eventName, char idKind, string eventId)
    {
        var length = 1 + 4 + Encoding.UTF8.GetByteCount(eventName) + 1 + 4 + Encoding.UTF8.GetByteCount(eventId);
        var buffer = length <= 512 ? stackalloc byte[length] : new byte[length];
        buffer[0] = browser ? (byte)0xB0 : (byte)0x50;
        var offset = 1;
        offset += Write(buffer[offset..], eventName);
        buffer[offset++] = (byte)idKind;
        Write(buffer[offset..], eventId);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(buffer, digest);
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt128LittleEndian(digest);
    }

    private static int Write(Span<byte> buffer, string value)
    {
        var count = Encoding.UTF8.GetBytes(value, buffer[4..]);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(buffer, count);
        return 4 + count;
    }
}
