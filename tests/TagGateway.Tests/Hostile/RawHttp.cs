using System.Net;
using System.Net.Sockets;
using System.Text;

namespace TagGateway.Tests.Hostile;

/// <summary>One HTTP/1.x response as it came off the socket: status and headers, lines kept as sent.</summary>
public sealed record RawResponse(int Status, string StatusLine, IReadOnlyList<(string Name, string Value)> Headers)
{
    public IEnumerable<string> Values(string name) =>
        Headers.Where(h => h.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value);
}

/// <summary>What one connection answered: every response parsed off it, and the raw bytes for anything else.</summary>
public sealed record RawExchange(IReadOnlyList<RawResponse> Responses, byte[] Raw, bool TimedOut)
{
    public int? FirstStatus => Responses.Count > 0 ? Responses[0].Status : null;
}

/// <summary>
/// Writes bytes to a socket and reads HTTP/1.x responses back: HttpClient would normalise the very things these
/// tests send (targets, header bytes, framing). Reading stops when the server closes, when the expected number of
/// responses is complete, or after <see cref="IdleTimeout"/> of silence (a server waiting for a body never sent).
/// </summary>
public static class RawHttp
{
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Latin-1 keeps every byte 0-255 as one char, so a test can write raw non-UTF-8 bytes in a string.</summary>
    public static byte[] Bytes(string text) => Encoding.Latin1.GetBytes(text);

    /// <summary>UTF-8 for the parts of a request that carry real non-ASCII text (a fullwidth dot).</summary>
    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    public static async Task<RawExchange> SendAsync(IPEndPoint endPoint, byte[] request, int expectedResponses = 1)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(endPoint);
        var stream = client.GetStream();
        try
        {
            await stream.WriteAsync(request);
        }
        catch (IOException)
        {
            // The server may answer and close before a long request is written: what it answered still counts.
        }

        using var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        var timedOut = false;
        while (true)
        {
            int read;
            try
            {
                using var idle = new CancellationTokenSource(IdleTimeout);
                read = await stream.ReadAsync(buffer, idle.Token);
            }
            catch (OperationCanceledException)
            {
                timedOut = true;
                break;
            }
            catch (IOException)
            {
                break;
            }

            if (read == 0)
            {
                break;
            }

            received.Write(buffer, 0, read);
            if (Parse(received.ToArray(), out _) >= expectedResponses)
            {
                break;
            }
        }

        var raw = received.ToArray();
        Parse(raw, out var responses);
        return new RawExchange(responses, raw, timedOut);
    }

    /// <summary>Parses complete responses (headers, and a body framed by Content-Length or chunked); returns how many.</summary>
    private static int Parse(byte[] raw, out List<RawResponse> responses)
    {
        responses = [];
        var text = Encoding.Latin1.GetString(raw);
        var position = 0;
        while (position < text.Length)
        {
            var headEnd = text.IndexOf("\r\n\r\n", position, StringComparison.Ordinal);
            if (headEnd < 0 || !text.AsSpan(position).StartsWith("HTTP/", StringComparison.Ordinal))
            {
                break;
            }

            var lines = text[position..headEnd].Split("\r\n");
            var parts = lines[0].Split(' ', 3);
            if (parts.Length < 2 || !int.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var status))
            {
                break;
            }

            var headers = new List<(string, string)>();
            foreach (var line in lines.Skip(1))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                headers.Add(colon < 0 ? (line, string.Empty) : (line[..colon].Trim(), line[(colon + 1)..].Trim()));
            }

            var response = new RawResponse(status, lines[0], headers);
            var bodyStart = headEnd + 4;
            var length = response.Values("Content-Length").Select(v => long.TryParse(v, out var n) ? n : -1).FirstOrDefault(-1);
            var chunked = response.Values("Transfer-Encoding").Any(v => v.Contains("chunked", StringComparison.OrdinalIgnoreCase));
            if (status is 204 or 304 or (>= 100 and < 200))
            {
                position = bodyStart;
            }
            else if (chunked)
            {
                var end = text.IndexOf("\r\n0\r\n\r\n", bodyStart - 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    break;
                }

                position = end + 7;
            }
            else if (length >= 0)
            {
                if (text.Length - bodyStart < length)
                {
                    break;
                }

                position = bodyStart + (int)length;
            }
            else
            {
                // No framing: the body runs to the close, so this response is complete only when the server closed.
                responses.Add(response);
                return -1;
            }

            responses.Add(response);
        }

        return responses.Count;
    }
}
