using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace TagGateway.Tests.Infrastructure;

/// <summary>
/// What a TLS client offered, read from its ClientHello on the wire (peeked, so the handshake still sees every byte):
/// the server name (SNI) and the application protocols (ALPN), as sent and in order, which no TLS server API exposes.
/// </summary>
public sealed record ClientHello(string? ServerName, IReadOnlyList<string> ApplicationProtocols)
{
    public static async Task<ClientHello> PeekAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024 + 5];
        for (var attempt = 0; attempt < 5000; attempt++)
        {
            var peeked = await socket.ReceiveAsync(buffer, SocketFlags.Peek, cancellationToken);
            if (peeked == 0)
            {
                throw new IOException("The client closed before its ClientHello.");
            }

            if (peeked >= 5 && peeked >= 5 + BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(3)))
            {
                return Parse(buffer.AsSpan(0, peeked));
            }

            // Only part of the record is in: peek again once more has arrived.
            await Task.Delay(1, cancellationToken);
        }

        throw new IOException("No whole ClientHello arrived.");
    }

    /// <summary>One TLS record holding a ClientHello (RFC 8446 4.1.2; SNI RFC 6066 3; ALPN RFC 7301 3.1).</summary>
    internal static ClientHello Parse(ReadOnlySpan<byte> record)
    {
        if (record[0] != 22 || record[5] != 1)
        {
            throw new InvalidDataException("Not a TLS handshake record holding a ClientHello.");
        }

        var hello = record[9..];
        var at = 2 + 32; // legacy_version, random
        at += 1 + hello[at]; // legacy_session_id
        at += 2 + BinaryPrimitives.ReadUInt16BigEndian(hello[at..]); // cipher_suites
        at += 1 + hello[at]; // legacy_compression_methods
        var extensionsEnd = at + 2 + BinaryPrimitives.ReadUInt16BigEndian(hello[at..]);
        at += 2;
        string? serverName = null;
        var protocols = new List<string>();
        while (at + 4 <= extensionsEnd)
        {
            var type = BinaryPrimitives.ReadUInt16BigEndian(hello[at..]);
            var length = BinaryPrimitives.ReadUInt16BigEndian(hello[(at + 2)..]);
            var data = hello.Slice(at + 4, length);
            if (type == 0 && data.Length > 5 && data[2] == 0)
            {
                // server_name_list: one host_name entry.
                serverName = Encoding.ASCII.GetString(data.Slice(5, BinaryPrimitives.ReadUInt16BigEndian(data[3..])));
            }
            else if (type == 16)
            {
                for (var p = 2; p < data.Length; p += 1 + data[p])
                {
                    protocols.Add(Encoding.ASCII.GetString(data.Slice(p + 1, data[p])));
                }
            }

            at += 4 + length;
        }

        return new ClientHello(serverName, protocols);
    }
}
