using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace TagGateway.Capi.Storage.Journal;

/// <summary>
/// On-disk framing: <c>[u32 payload length][u32 CRC-32C of type+payload][u8 type][payload]</c>, little-endian. A torn
/// or corrupt tail (a crash mid-write) fails the length or CRC check and is cut off on open.
/// </summary>
internal static class JournalFormat
{
    public const int HeaderSize = 9;
    public const int MaxPayload = 16 * 1024 * 1024;

    public static uint Crc(byte type, ReadOnlySpan<byte> payload)
    {
        var crc = BitOperations.Crc32C(0xFFFFFFFFu, type);
        var i = 0;
        for (; i + 8 <= payload.Length; i += 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(payload[i..]));
        }

        for (; i < payload.Length; i++)
        {
            crc = BitOperations.Crc32C(crc, payload[i]);
        }

        return ~crc;
    }

    /// <summary>A length-prefixed UTF-8 string (<c>[u16 length][bytes]</c>, cut at 65,535 bytes); returns the bytes written.</summary>
    public static int WriteString(Span<byte> destination, string value)
    {
        var max = Math.Min(Encoding.UTF8.GetByteCount(value), ushort.MaxValue);
        var bytes = Encoding.UTF8.GetBytes(value);
        BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)max);
        bytes.AsSpan(0, max).CopyTo(destination[2..]);
        return 2 + max;
    }

    /// <summary>Reads what <see cref="WriteString"/> wrote.</summary>
    public static string ReadString(ReadOnlySpan<byte> source, out int consumed)
    {
        int length = BinaryPrimitives.ReadUInt16LittleEndian(source);
        consumed = 2 + length;
        return Encoding.UTF8.GetString(source.Slice(2, length));
    }

    public static string SegmentName(long id) => $"{id:D10}.journal";

    public static bool TryParseSegmentName(string fileName, out long id)
    {
        id = 0;
        return fileName.EndsWith(".journal", StringComparison.Ordinal) && long.TryParse(fileName.AsSpan(0, fileName.Length - ".journal".Length), out id);
    }
}

/// <summary>Record types.</summary>
internal enum RecordType : byte
{
    /// <summary>An event's whole state: <c>[seq][done mask][dead count]{[dest][failed ms][error]}[event JSON]</c>; the latest one wins.</summary>
    Full = 1,

    /// <summary>One destination finished with an event: <c>[seq][dest][kind][ms][error]</c>.</summary>
    Done = 2,

    /// <summary>A dedup key outliving its event's record, as written before issue #16: <c>[key 16][seq][expires ms]</c>; still replayed.</summary>
    Ledger = 3,

    /// <summary>
    /// A dedup key or gap-fill mark outliving its event's record (written by compaction and for marks), as the ledger's
    /// fingerprint (<c>FingerprintLedger.Fingerprint</c>): <c>[fingerprint 8][seq][expires ms]</c>.
    /// </summary>
    LedgerFingerprint = 4,

    /// <summary>
    /// The dedup ledger's eviction floor (<c>FingerprintLedger.FloorMs</c>): <c>[floor ms]</c>. Keys expiring at or
    /// before it were evicted to keep the ledger within its budget and stay evicted on replay; written when it rises and
    /// carried by compaction while it is ahead of the clock.
    /// </summary>
    LedgerFloor = 5,
}
