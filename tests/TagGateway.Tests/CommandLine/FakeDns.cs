using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TagGateway.CommandLine.Doctor;

namespace TagGateway.Tests.CommandLine;

/// <summary>A DNS server on UDP 127.0.0.1 answering from a table (CNAME chains followed), for the doctor's tests.</summary>
internal sealed class FakeDns : IDisposable
{
    private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly Dictionary<string, List<(DnsRecordType Type, string Value)>> _records = new(StringComparer.OrdinalIgnoreCase);
    private readonly CancellationTokenSource _stop = new();

    public FakeDns()
    {
        _ = Task.Run(ServeAsync);
    }

    public IPEndPoint EndPoint => (IPEndPoint)_udp.Client.LocalEndPoint!;

    public FakeDns Add(string name, DnsRecordType type, string value)
    {
        lock (_records)
        {
            if (!_records.TryGetValue(name, out var list))
            {
                _records[name] = list = [];
            }

            list.Add((type, value));
        }

        return this;
    }

    public void Dispose()
    {
        _stop.Cancel();
        _udp.Dispose();
        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            UdpReceiveResult received;
            try
            {
                received = await _udp.ReceiveAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            var answer = Answer(received.Buffer);
            await _udp.SendAsync(answer, received.RemoteEndPoint);
        }
    }

    private byte[] Answer(byte[] query)
    {
        // The question: uncompressed labels from offset 12, then type and class.
        var offset = 12;
        var labels = new List<string>();
        while (query[offset] != 0)
        {
            labels.Add(Encoding.ASCII.GetString(query, offset + 1, query[offset]));
            offset += 1 + query[offset];
        }

        offset++;
        var type = (DnsRecordType)BinaryPrimitives.ReadUInt16BigEndian(query.AsSpan(offset));
        var questionEnd = offset + 4;

        var answers = new List<(string Name, DnsRecordType Type, string Value)>();
        var name = string.Join('.', labels);
        lock (_records)
        {
            for (var hops = 0; hops < 8 && _records.TryGetValue(name, out var list); hops++)
            {
                var cname = list.FirstOrDefault(static r => r.Type == DnsRecordType.Cname);
                if (cname.Value is not null)
                {
                    answers.Add((name, DnsRecordType.Cname, cname.Value));
                    name = cname.Value;
                    continue;
                }

                answers.AddRange(list.Where(r => r.Type == type).Select(r => (name, r.Type, r.Value)));
                break;
            }
        }

        using var message = new MemoryStream();
        message.Write(query, 0, 2);
        message.Write([0x81, 0x80, 0, 1, (byte)(answers.Count >> 8), (byte)answers.Count, 0, 0, 0, 0]);
        message.Write(query, 12, questionEnd - 12);
        foreach (var (owner, recordType, value) in answers)
        {
            WriteName(message, owner);
            var data = recordType == DnsRecordType.Cname ? NameBytes(value) : IPAddress.Parse(value).GetAddressBytes();
            message.Write([(byte)((ushort)recordType >> 8), (byte)recordType, 0, 1, 0, 0, 0, 60, (byte)(data.Length >> 8), (byte)data.Length]);
            message.Write(data);
        }

        return message.ToArray();
    }

    private static void WriteName(Stream stream, string name) => stream.Write(NameBytes(name));

    private static byte[] NameBytes(string name)
    {
        var bytes = new List<byte>();
        foreach (var label in name.Split('.'))
        {
            bytes.Add((byte)label.Length);
            bytes.AddRange(Encoding.ASCII.GetBytes(label));
        }

        bytes.Add(0);
        return [.. bytes];
    }
}
