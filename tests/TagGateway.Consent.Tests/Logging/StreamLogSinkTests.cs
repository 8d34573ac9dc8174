using System.Text;
using TagGateway.Consent.Logging;

namespace TagGateway.Consent.Tests.Logging;

public class StreamLogSinkTests
{
    /// <summary>Records each Write call so the tests can see the chunking.</summary>
    private sealed class RecordingStream : MemoryStream
    {
        public List<int> Writes { get; } = [];

        public override void Write(byte[] buffer, int offset, int count)
        {
            Writes.Add(count);
            base.Write(buffer, offset, count);
        }

        public override void Write(ReadOnlySpan<byte> buffer) => Write(buffer.ToArray(), 0, buffer.Length);
    }

    [Fact]
    public async Task Writes_are_whole_lines_of_at_most_4_KiB()
    {
        var stream = new RecordingStream();
        var sink = new StreamLogSink(stream);
        var line = Encoding.UTF8.GetBytes(new string('a', 999) + "\n");
        var huge = Encoding.UTF8.GetBytes(new string('b', 5999) + "\n");

        await using (sink)
        {
            for (var i = 0; i < 10; i++)
            {
                sink.WriteLine(line);
            }

            sink.WriteLine(huge);
            sink.WriteLine(line);
            await sink.FlushAsync(CancellationToken.None);
        }

        // 4 lines per 4 KiB chunk; the oversized line alone; everything ends on a newline.
        Assert.Equal([4000, 4000, 2000, 6000, 1000], stream.Writes);
        Assert.Equal((11 * 1000) + 6000, stream.ToArray().Length);
        Assert.Equal(12, Encoding.UTF8.GetString(stream.ToArray()).Count(c => c == '\n'));
    }
}
