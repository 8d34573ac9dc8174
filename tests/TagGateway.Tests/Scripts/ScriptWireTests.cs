using System.IO.Compression;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Scripts;

/// <summary>
/// A cached script as it leaves the socket: the response head byte for byte (only Kestrel's Date masked) and the body
/// framed exactly by Content-Length, for every variant (Brotli, gzip, identity; 200, 304; GET, HEAD), all on one
/// keep-alive connection so a framing slip would garble the next answer. The heads are the ones today's responder sends
/// (<c>Response.Body.WriteAsync</c> of the cached bytes); a faster way of writing the body must not change them.
/// </summary>
public sealed class ScriptWireTests
{
    private const string Path = "/metrics/gtag/js?id=G-TEST1234";

    private static readonly string Script = Bodies.Script("wire");

    [Fact]
    public async Task Every_variant_sends_the_recorded_head_and_a_body_framed_by_its_length()
    {
        await using var upstream = await FakeUpstream.StartAsync(async (context, _) =>
        {
            context.Response.ContentType = "application/javascript; charset=utf-8";
            context.Response.Headers.CacheControl = "private, max-age=900";
            context.Response.Headers.AccessControlAllowOrigin = "*";
            context.Response.Headers["Cross-Origin-Resource-Policy"] = "cross-origin";
            await context.Response.WriteAsync(Script);
        });
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin), time);

        using var client = new TcpClient();
        await client.ConnectAsync(gateway.PublicEndPoint);
        var connection = new Connection(client.GetStream());

        // The miss fills the cache; seven seconds later every answer comes from it, aged 7. (The ETag's suffix names the
        // compression, fast or best, which the background pass may swap between two answers: its shape is checked.)
        var miss = await connection.SendAsync("GET", "br, gzip");
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", miss.Head, StringComparison.Ordinal);
        time.Advance(TimeSpan.FromSeconds(7));

        var brotli = await connection.SendAsync("GET", "gzip, deflate, br, zstd");
        var etagBase = ETagBase(brotli.Head);
        AssertHead(Expected(200, "br", brotli.Body.Length, ETag(brotli.Head, etagBase, "br")), brotli.Head);
        Assert.Equal(Script, Decode(brotli.Body, "br"));

        var gzip = await connection.SendAsync("GET", "gzip");
        AssertHead(Expected(200, "gzip", gzip.Body.Length, ETag(gzip.Head, etagBase, "gz")), gzip.Head);
        Assert.Equal(Script, Decode(gzip.Body, "gzip"));

        var identity = await connection.SendAsync("GET", acceptEncoding: null);
        AssertHead(Expected(200, null, Encoding.UTF8.GetByteCount(Script), etagBase), identity.Head);
        Assert.Equal(Script, Encoding.UTF8.GetString(identity.Body));

        var notModified = await connection.SendAsync("GET", "gzip, deflate, br, zstd", ifNoneMatch: $"\"{etagBase}.br\"");
        AssertHead(Expected(304, null, null, ETag(notModified.Head, etagBase, "br")), notModified.Head);
        Assert.Empty(notModified.Body);

        var headBrotli = await connection.SendAsync("HEAD", "gzip, deflate, br, zstd");
        AssertHead(Expected(200, "br", Length(headBrotli.Head), ETag(headBrotli.Head, etagBase, "br")), headBrotli.Head);
        Assert.Empty(headBrotli.Body);

        var headIdentity = await connection.SendAsync("HEAD", acceptEncoding: null);
        AssertHead(Expected(200, null, Encoding.UTF8.GetByteCount(Script), etagBase), headIdentity.Head);

        // After a HEAD (no body on the wire) the connection still frames the next full answer correctly.
        var again = await connection.SendAsync("GET", "gzip, deflate, br, zstd");
        Assert.Equal(Script, Decode(again.Body, "br"));
        Assert.Single(upstream.Requests);
    }

    [Fact]
    public async Task Pipelined_loads_on_one_connection_come_back_whole_and_in_order()
    {
        await using var upstream = await FakeUpstream.StartAsync(async (context, _) =>
        {
            context.Response.ContentType = "application/javascript; charset=utf-8";
            context.Response.Headers.CacheControl = "private, max-age=900";
            await context.Response.WriteAsync(Script);
        });
        await using var gateway = await GatewayInstance.StartAsync(GatewayInstance.Settings(upstream.Origin));

        using var client = new TcpClient();
        await client.ConnectAsync(gateway.PublicEndPoint);
        var connection = new Connection(client.GetStream());
        var first = await connection.SendAsync("GET", "br");

        // Ten requests written at once: the answers (bodies bigger than Kestrel's pipe threshold of 64 KB in total)
        // must come back back to back, each exactly its Content-Length.
        var encodings = Enumerable.Range(0, 10).Select(i => i % 3 == 0 ? "gzip" : "br").ToArray();
        var requests = string.Concat(encodings.Select(e => Request("GET", e, null)));
        await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(requests));
        foreach (var encoding in encodings)
        {
            var answer = await connection.ReadAsync(head: false);
            Assert.StartsWith("HTTP/1.1 200 OK\r\n", answer.Head, StringComparison.Ordinal);
            Assert.Contains($"\r\nContent-Encoding: {encoding}\r\n", answer.Head, StringComparison.Ordinal);
            Assert.Equal(Script, Decode(answer.Body, encoding));
        }

        Assert.Equal(Script, Decode(first.Body, "br"));
    }

    /// <summary>What the responder sent before its body write changed (Date masked), header order included.</summary>
    private static string Expected(int status, string? encoding, int? length, string etag)
    {
        var head = new StringBuilder();
        head.Append(status == 200 ? "HTTP/1.1 200 OK\r\n" : "HTTP/1.1 304 Not Modified\r\n");
        if (length is { } n)
        {
            head.Append("Content-Length: ").Append(n).Append("\r\n");
        }

        if (status == 200)
        {
            head.Append("Content-Type: application/javascript; charset=utf-8\r\n");
        }

        head.Append("Date: *\r\n");
        head.Append("Age: 7\r\n");
        head.Append("Cache-Control: max-age=900, private\r\n");
        if (encoding is not null)
        {
            head.Append("Content-Encoding: ").Append(encoding).Append("\r\n");
        }

        head.Append("ETag: \"").Append(etag).Append("\"\r\n");
        head.Append("Vary: Accept-Encoding\r\n");
        head.Append("Access-Control-Allow-Origin: *\r\n");
        head.Append("Cross-Origin-Resource-Policy: cross-origin\r\n");
        head.Append("X-TagGateway-Cache: hit\r\n");
        return head.Append("\r\n").ToString();
    }

    /// <summary>
    /// The status line first, the blank line last, and the same header lines byte for byte. The order of the lines is
    /// Kestrel's (its known headers in a fixed order, then the rest as added), not the responder's, so it is not compared.
    /// </summary>
    private static void AssertHead(string expected, string actual)
    {
        var want = Masked(expected).Split("\r\n");
        var got = Masked(actual).Split("\r\n");
        var same = want[0] == got[0] && got[^1].Length == 0 && got[^2].Length == 0
            && want.Skip(1).Order(StringComparer.Ordinal).SequenceEqual(got.Skip(1).Order(StringComparer.Ordinal));
        Assert.True(same, $"The head differs.\nSent:\n{Masked(actual)}\nExpected (any order of the header lines):\n{Masked(expected)}");
    }

    private static string Masked(string head) =>
        string.Join("\r\n", head.Split("\r\n").Select(line => line.StartsWith("Date: ", StringComparison.Ordinal) ? "Date: *" : line));

    /// <summary>The ETag a head carries: the body's hash, the encoding, and the compression level when it is the fast one.</summary>
    private static string ETag(string head, string etagBase, string encoding)
    {
        var line = head.Split("\r\n").Single(l => l.StartsWith("ETag: ", StringComparison.Ordinal));
        var opaque = line["ETag: \"".Length..^1];
        Assert.Matches($"^{etagBase}\\.{encoding}[0-9]*$", opaque);
        return opaque;
    }

    private static int Length(string head) =>
        int.Parse(head.Split("\r\n").Single(l => l.StartsWith("Content-Length: ", StringComparison.Ordinal))["Content-Length: ".Length..], System.Globalization.CultureInfo.InvariantCulture);

    private static string ETagBase(string head)
    {
        var line = head.Split("\r\n").Single(l => l.StartsWith("ETag: ", StringComparison.Ordinal));
        var opaque = line["ETag: \"".Length..^1];
        return opaque[..opaque.IndexOf('.', StringComparison.Ordinal)];
    }

    private static string Decode(byte[] body, string encoding)
    {
        using Stream decoder = encoding == "br"
            ? new BrotliStream(new MemoryStream(body), CompressionMode.Decompress)
            : new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
        using var reader = new StreamReader(decoder, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static string Request(string method, string? acceptEncoding, string? ifNoneMatch)
    {
        var request = new StringBuilder($"{method} {Path} HTTP/1.1\r\nHost: shop.example.com\r\nUser-Agent: Mozilla/5.0 Chrome/131.0\r\n");
        if (acceptEncoding is not null)
        {
            request.Append("Accept-Encoding: ").Append(acceptEncoding).Append("\r\n");
        }

        if (ifNoneMatch is not null)
        {
            request.Append("If-None-Match: ").Append(ifNoneMatch).Append("\r\n");
        }

        return request.Append("\r\n").ToString();
    }

    private sealed record Answer(string Head, byte[] Body);

    /// <summary>One keep-alive connection: a request out, one answer read back exactly (head, then Content-Length bytes).</summary>
    private sealed class Connection(NetworkStream stream)
    {
        private readonly List<byte> _pending = [];
        private bool _lastWasHead;

        public async Task<Answer> SendAsync(string method, string? acceptEncoding, string? ifNoneMatch = null)
        {
            await stream.WriteAsync(Encoding.ASCII.GetBytes(Request(method, acceptEncoding, ifNoneMatch)));
            return await ReadAsync(method == "HEAD");
        }

        public async Task<Answer> ReadAsync(bool head)
        {
            _lastWasHead = head;
            var end = -1;
            while ((end = IndexOfHeadEnd()) < 0)
            {
                await FillAsync();
            }

            var headText = Encoding.ASCII.GetString(_pending.GetRange(0, end + 4).ToArray());
            _pending.RemoveRange(0, end + 4);
            var lengthLine = headText.Split("\r\n").FirstOrDefault(l => l.StartsWith("Content-Length: ", StringComparison.Ordinal));
            var length = _lastWasHead || headText.StartsWith("HTTP/1.1 304", StringComparison.Ordinal) || lengthLine is null
                ? 0
                : int.Parse(lengthLine["Content-Length: ".Length..], System.Globalization.CultureInfo.InvariantCulture);
            while (_pending.Count < length)
            {
                await FillAsync();
            }

            var body = _pending.GetRange(0, length).ToArray();
            _pending.RemoveRange(0, length);
            return new Answer(headText, body);
        }

        private int IndexOfHeadEnd()
        {
            for (var i = 0; i + 3 < _pending.Count; i++)
            {
                if (_pending[i] == '\r' && _pending[i + 1] == '\n' && _pending[i + 2] == '\r' && _pending[i + 3] == '\n')
                {
                    return i;
                }
            }

            return -1;
        }

        private async Task FillAsync()
        {
            var buffer = new byte[64 * 1024];
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            if (read == 0)
            {
                throw new IOException("The gateway closed the connection mid-answer.");
            }

            _pending.AddRange(buffer.AsSpan(0, read).ToArray());
        }
    }
}
