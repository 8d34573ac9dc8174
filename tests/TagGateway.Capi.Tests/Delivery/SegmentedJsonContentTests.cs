using System.Text.Json;
using TagGateway.Capi.Delivery.Http;
using TagGateway.Capi.Delivery.Meta;

namespace TagGateway.Capi.Tests.Delivery;

/// <summary>
/// Platform request bodies in segments: the same bytes as one serialised array, the same Content-Length, sent again
/// unchanged on a retry, and no segment on the large object heap (85,000 bytes and up).
/// </summary>
public sealed class SegmentedJsonContentTests
{
    private const int LargeObjectThreshold = 85_000;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(90)]
    [InlineData(1000)]
    public async Task A_Meta_batch_is_the_bytes_SerializeToUtf8Bytes_gives_with_its_length_and_survives_a_resend(int events)
    {
        var request = Batch(events);
        var expected = JsonSerializer.SerializeToUtf8Bytes(request, CapiSnakeJsonContext.Default.MetaRequest);

        using var content = SegmentedJsonContent.Create(request, CapiSnakeJsonContext.Default.MetaRequest);

        Assert.Equal(expected.Length, content.Headers.ContentLength);
        Assert.Equal("application/json", content.Headers.ContentType!.MediaType);
        Assert.Equal("utf-8", content.Headers.ContentType.CharSet);
        Assert.Equal(expected, content.ToArray());
        for (var send = 0; send < 2; send++)
        {
            using var wire = new MemoryStream();
            await content.CopyToAsync(wire);
            Assert.Equal(expected, wire.ToArray());
        }

        Assert.InRange(content.LargestSegment, 0, LargeObjectThreshold - 1);
        if (events == 1000)
        {
            // The case this exists for: a full batch is several hundred KB.
            Assert.True(expected.Length > 4 * SegmentedJsonContent.SegmentBytes, $"{expected.Length} bytes");
        }
    }

    [Fact]
    public void A_value_longer_than_a_segment_is_written_whole()
    {
        var request = Batch(2);
        request.Data[1].EventSourceUrl = "https://shop.example/" + new string('a', 3 * SegmentedJsonContent.SegmentBytes);
        var expected = JsonSerializer.SerializeToUtf8Bytes(request, CapiSnakeJsonContext.Default.MetaRequest);

        using var content = SegmentedJsonContent.Create(request, CapiSnakeJsonContext.Default.MetaRequest);

        Assert.Equal(expected, content.ToArray());
        Assert.Equal(expected.Length, content.Length);
    }

    private static MetaRequest Batch(int events) => new()
    {
        AccessToken = "meta-token-0123456789",
        Data = [.. Enumerable.Range(0, events).Select(static i => new MetaEvent
        {
            EventName = "Purchase",
            EventTime = 1_764_600_000 + i,
            EventId = $"order-{i}",
            EventSourceUrl = $"https://shop.example/thanks?o={i}&q=\u00e9t\u00e9 <b>",
            UserData = new MetaUserData
            {
                Em = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(BitConverter.GetBytes(i))),
                Country = "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621",
            },
        })],
    };
}
