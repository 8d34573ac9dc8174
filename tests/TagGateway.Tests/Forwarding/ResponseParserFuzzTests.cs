using System.IO.Pipelines;
using System.Text;
using TagGateway.Forwarding.Pipelines;

namespace TagGateway.Tests.Forwarding;

/// <summary>
/// Random and mutated response bytes through the pipelines client's reader (head parser and body framing, over a
/// real PipeReader): a bounded number of inputs from a fixed seed; the only exception that may escape is the
/// parser's own refusal.
/// </summary>
public sealed class ResponseParserFuzzTests
{
    private static readonly string[] Seeds =
    [
        "HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\nSet-Cookie: FPLC=a; Path=/\r\nContent-Length: 6\r\n\r\nGIF89a",
        "HTTP/1.1 204 No Content\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n-world\r\n0\r\nT: 1\r\n\r\n",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 302 Found\r\nLocation: https://www.google.com/\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.0 200 OK\r\nConnection: close\r\n\r\nuntil the end",
    ];

    private static readonly byte[] Interesting = "\r\n :;0123456789abcdefABCDEF\t\0\x7f\xff-,HTTP/1.chunked"u8.ToArray();

    [Fact]
    public async Task Random_and_mutated_responses_only_ever_end_in_a_result_or_a_refusal()
    {
        var random = new Random(20261201);
        var outcomes = new int[3];
        for (var i = 0; i < 4000; i++)
        {
            var input = i % 4 == 0 ? RandomBytes(random) : Mutate(random, Encoding.ASCII.GetBytes(Seeds[random.Next(Seeds.Length)]));
            outcomes[await RunAsync(input, headRequest: i % 7 == 0, segmentSize: 1 + random.Next(64))]++;
        }

        // The corpus reaches all three ends, so the test exercises acceptance as well as refusal.
        Assert.All(outcomes, count => Assert.True(count > 0));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public async Task Each_seed_parses_whole_in_any_segmentation(int seed)
    {
        for (var segment = 1; segment <= 17; segment += 4)
        {
            Assert.Equal(0, await RunAsync(Encoding.ASCII.GetBytes(Seeds[seed]), headRequest: false, segment));
        }
    }

    /// <returns>0 for a response read to its end, 1 for a refusal, 2 for a truncated input refused as such.</returns>
    private static async Task<int> RunAsync(byte[] input, bool headRequest, int segmentSize)
    {
        var reader = PipeReader.Create(new SegmentedStream(input, segmentSize), new StreamPipeReaderOptions(bufferSize: 64, minimumReadSize: 16));
        var body = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        var headers = new List<KeyValuePair<string, string>>();
        try
        {
            var head = await ResponseReader.ReadHeadAsync(reader, headRequest, headers, previous: null, CancellationToken.None);
            Assert.InRange(head.StatusCode, 200, 599);
            await ResponseReader.CopyBodyAsync(reader, head, body.Writer, CancellationToken.None);
            return 0;
        }
        catch (UpstreamProtocolException ex)
        {
            return ex.Message.Contains("closed", StringComparison.Ordinal) ? 2 : 1;
        }
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(0, 300)];
        for (var i = 0; i < bytes.Length; i++)
        {
            bytes[i] = random.Next(3) == 0 ? Interesting[random.Next(Interesting.Length)] : (byte)random.Next(256);
        }

        return random.Next(2) == 0 ? [.. "HTTP/1.1 200 OK\r\n"u8, .. bytes] : bytes;
    }

    private static byte[] Mutate(Random random, byte[] seed)
    {
        var bytes = new List<byte>(seed);
        for (var n = random.Next(1, 4); n > 0 && bytes.Count > 0; n--)
        {
            var at = random.Next(bytes.Count);
            switch (random.Next(4))
            {
                case 0:
                    bytes[at] = Interesting[random.Next(Interesting.Length)];
                    break;
                case 1:
                    bytes.Insert(at, Interesting[random.Next(Interesting.Length)]);
                    break;
                case 2:
                    bytes.RemoveAt(at);
                    break;
                default:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
            }
        }

        return [.. bytes];
    }

    /// <summary>Hands out at most <c>segmentSize</c> bytes per read, as a slow TCP peer would.</summary>
    private sealed class SegmentedStream(byte[] data, int segmentSize) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => data.Length;

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var count = Math.Min(Math.Min(buffer.Length, segmentSize), data.Length - _position);
            data.AsSpan(_position, count).CopyTo(buffer);
            _position += count;
            return count;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
