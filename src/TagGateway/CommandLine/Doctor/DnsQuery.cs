using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace TagGateway.CommandLine.Doctor;

internal enum DnsRecordType : ushort
{
    A = 1,
    Cname = 5,
    Aaaa = 28,
}

/// <summary>One answer record: an address in text form (A, AAAA) or the target name (CNAME).</summary>
internal readonly record struct DnsRecord(string Name, DnsRecordType Type, string Value);

/// <summary>
/// A single DNS question over UDP (RFC 1035), enough for the doctor's Safari check: the system resolver hides CNAMEs,
/// and an A query's answer carries the CNAME chain that led to the address.
/// </summary>
internal static class DnsQuery
{
    public static async Task<List<DnsRecord>> QueryAsync(IPEndPoint server, string name, DnsRecordType type, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var id = (ushort)RandomNumberGenerator.GetInt32(ushort.MaxValue + 1);
        var query = Build(id, name, type);
        using var udp = new UdpClient(server.AddressFamily);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cancel.CancelAfter(timeout);
        await udp.SendAsync(query, server, cancel.Token);
        while (true)
        {
            var received = await udp.ReceiveAsync(cancel.Token);

            // Only the server asked, and only the answer to this question's id (anything else is a stray or a spoof).
            if (!received.RemoteEndPoint.Equals(server) || !TryParse(received.Buffer, id, out var records, out var rcode))
            {
                continue;
            }

            // NXDOMAIN is an empty answer; other errors (SERVFAIL, REFUSED) say the resolver could not tell.
            return rcode is 0 or 3 ? records : throw new IOException($"the DNS server {server} answered rcode {rcode} for {name}");
        }
    }

    /// <summary>The system resolver: the first <c>nameserver</c> of <c>/etc/resolv.conf</c>, or null when there is none.</summary>
    public static IPEndPoint? SystemResolver()
    {
        try
        {
            foreach (var line in File.ReadLines("/etc/resolv.conf"))
            {
                var parts = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 2 && parts[0] == "nameserver" && IPAddress.TryParse(parts[1].Split('%')[0], out var address))
                {
                    return new IPEndPoint(address, 53);
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }

    internal static byte[] Build(ushort id, string name, DnsRecordType type)
    {
        var labels = name.TrimEnd('.').Split('.');
        var message = new byte[12 + labels.Sum(static l => l.Length + 1) + 1 + 4];
        BinaryPrimitives.WriteUInt16BigEndian(message, id);
        message[2] = 0x01; // recursion desired
        message[5] = 1; // one question
        var offset = 12;
        foreach (var label in labels)
        {
            if (label.Length is 0 or > 63)
            {
                throw new ArgumentException($"'{name}' is not a host name.", nameof(name));
            }

            message[offset++] = (byte)label.Length;
            offset += Encoding.ASCII.GetBytes(label, message.AsSpan(offset));
        }

        message[offset++] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(offset), (ushort)type);
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(offset + 2), 1); // IN
        return message;
    }

    internal static bool TryParse(ReadOnlySpan<byte> message, ushort id, out List<DnsRecord> records, out int rcode)
    {
        records = [];
        rcode = -1;
        if (message.Length < 12 || BinaryPrimitives.ReadUInt16BigEndian(message) != id || (message[2] & 0x80) == 0)
        {
            return false;
        }

        rcode = message[3] & 0x0F;
        int questions = BinaryPrimitives.ReadUInt16BigEndian(message[4..]), answers = BinaryPrimitives.ReadUInt16BigEndian(message[6..]);
        var offset = 12;
        for (var q = 0; q < questions; q++)
        {
            if (!TryReadName(message, ref offset, out _) || (offset += 4) > message.Length)
            {
                return false;
            }
        }

        for (var a = 0; a < answers; a++)
        {
            if (!TryReadName(message, ref offset, out var owner) || offset + 10 > message.Length)
            {
                return false;
            }

            var type = (DnsRecordType)BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
            var length = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 8)..]);
            offset += 10;
            if (offset + length > message.Length)
            {
                return false;
            }

            var data = message.Slice(offset, length);
            switch (type)
            {
                case DnsRecordType.A when length == 4:
                case DnsRecordType.Aaaa when length == 16:
                    records.Add(new(owner, type, new IPAddress(data).ToString()));
                    break;
                case DnsRecordType.Cname:
                    var at = offset;
                    if (!TryReadName(message, ref at, out var target))
                    {
                        return false;
                    }

                    records.Add(new(owner, type, target));
                    break;
                default:
                    break;
            }

            offset += length;
        }

        return true;
    }

    /// <summary>Reads a name at <paramref name="offset"/> (following compression pointers) and moves past it.</summary>
    private static bool TryReadName(ReadOnlySpan<byte> message, ref int offset, out string name)
    {
        var text = new StringBuilder();
        var position = offset;
        var jumped = false;
        for (var hops = 0; ; )
        {
            if (position >= message.Length)
            {
                name = string.Empty;
                return false;
            }

            var length = message[position];
            if (length == 0)
            {
                position++;
                break;
            }

            if ((length & 0xC0) == 0xC0)
            {
                // A pointer; bounded, so a loop of pointers cannot spin.
                if (position + 1 >= message.Length || ++hops > 32)
                {
                    name = string.Empty;
                    return false;
                }

                if (!jumped)
                {
                    offset = position + 2;
                }

                jumped = true;
                position = ((length & 0x3F) << 8) | message[position + 1];
                continue;
            }

            if ((length & 0xC0) != 0 || position + 1 + length > message.Length)
            {
                name = string.Empty;
                return false;
            }

            text.Append(text.Length > 0 ? "." : "").Append(Encoding.ASCII.GetString(message.Slice(position + 1, length)));
            position += 1 + length;
        }

        if (!jumped)
        {
            offset = position;
        }

        name = text.ToString().ToLowerInvariant();
        return true;
    }
}
