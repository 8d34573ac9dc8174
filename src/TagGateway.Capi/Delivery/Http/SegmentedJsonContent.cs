using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace TagGateway.Capi.Delivery.Http;

/// <summary>
/// A platform request's JSON body, serialised once into 64 KB segments and sent with its Content-Length.
/// <para>
/// Why not one array: a full batch (1,000 Meta events) is about 0.7 MB, so <c>SerializeToUtf8Bytes</c> put one array per
/// batch on the large object heap, which only a full collection frees; at the load harness's CAPI rate that was about
/// 25 MB of the process's RSS (bench/README.md). Segments under the large-object threshold die young with the request.
/// </para>
/// <para>
/// Why not pooled buffers: a pooled array goes back for reuse when the request is disposed, and a connection torn down
/// mid-send could still be copying from it, so bytes of another platform's batch (a body may carry an access token)
/// could reach this socket. These segments are never reused. The content can be sent again (a retry) until disposed.
/// </para>
/// </summary>
internal sealed class SegmentedJsonContent : HttpContent
{
    /// <summary>Under the large object heap's 85,000-byte threshold.</summary>
    internal const int SegmentBytes = 64 * 1024;

    private readonly SegmentWriter _body;

    private SegmentedJsonContent(SegmentWriter body)
    {
        _body = body;
        Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
    }

    public long Length => _body.Length;

    /// <summary>The largest segment allocated (tests: every one stays off the large object heap).</summary>
    internal int LargestSegment => _body.Segments.Select(static s => s.Segment.Length).DefaultIfEmpty(0).Max();

    public static SegmentedJsonContent Create<T>(T value, JsonTypeInfo<T> typeInfo)
    {
        var body = new SegmentWriter();
        using (var writer = new Utf8JsonWriter(body, new JsonWriterOptions { Encoder = typeInfo.Options.Encoder, Indented = typeInfo.Options.WriteIndented, SkipValidation = true }))
        {
            JsonSerializer.Serialize(writer, value, typeInfo);
        }

        return new SegmentedJsonContent(body);
    }

    /// <summary>The body as one array (tests only).</summary>
    public byte[] ToArray()
    {
        var all = new byte[_body.Length];
        var at = 0;
        foreach (var (segment, used) in _body.Segments)
        {
            segment.AsSpan(0, used).CopyTo(all.AsSpan(at));
            at += used;
        }

        return all;
    }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        foreach (var (segment, used) in _body.Segments)
        {
            await stream.WriteAsync(segment.AsMemory(0, used), cancellationToken);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override bool TryComputeLength(out long length)
    {
        length = _body.Length;
        return true;
    }

    /// <summary>Fresh, never-pooled segments; a write larger than one segment (never, for bounded fields) gets its own.</summary>
    private sealed class SegmentWriter : IBufferWriter<byte>
    {
        private readonly List<(byte[] Segment, int Used)> _segments = [];
        private byte[] _current = [];
        private int _used;

        public long Length { get; private set; }

        public IEnumerable<(byte[] Segment, int Used)> Segments
        {
            get
            {
                foreach (var segment in _segments)
                {
                    yield return segment;
                }

                if (_used > 0)
                {
                    yield return (_current, _used);
                }
            }
        }

        public void Advance(int count)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(count);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(count, _current.Length - _used);
            _used += count;
            Length += count;
        }

        public Memory<byte> GetMemory(int sizeHint = 0) => Reserve(sizeHint).AsMemory(_used);

        public Span<byte> GetSpan(int sizeHint = 0) => Reserve(sizeHint).AsSpan(_used);

        private byte[] Reserve(int sizeHint)
        {
            var need = Math.Max(sizeHint, 1);
            if (_current.Length - _used < need)
            {
                if (_used > 0)
                {
                    _segments.Add((_current, _used));
                }

                _current = new byte[Math.Max(SegmentBytes, need)];
                _used = 0;
            }

            return _current;
        }
    }
}
