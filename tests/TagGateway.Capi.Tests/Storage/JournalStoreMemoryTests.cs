using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Model;
using TagGateway.Capi.Storage;
using TagGateway.Capi.Storage.Journal;
using TagGateway.Capi.Tests.Infrastructure;

namespace TagGateway.Capi.Tests.Storage;

/// <summary>The journal keeps payloads on disk and bounds its in-memory backlog (issue #8).</summary>
public sealed class JournalStoreMemoryTests : IDisposable
{
    private const long OneMiB = 1024 * 1024;
    private readonly TempStoreDirectory _store = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => _store.Dispose();

    private JournalStore Create(long maxMemoryBytes = 32 * OneMiB, long segmentBytes = OneMiB, TimeSpan? mergeWindow = null) =>
        new(new StoreOptions { Path = _store.Path, SegmentBytes = segmentBytes, MaxBytes = 256 * OneMiB, MaxMemoryBytes = maxMemoryBytes },
            TimeSpan.FromHours(48), mergeWindow ?? TimeSpan.Zero, _time, NullLogger.Instance);

    /// <summary>Events with distinct, partly non-ASCII content, so a byte-for-byte comparison means something.</summary>
    private CapiEvent Event(int i, int destinations = 0b0001) => new()
    {
        Origin = EventOrigin.Server,
        Name = "purchase",
        EventId = $"T-{i}",
        TimeMs = _time.GetUtcNow().ToUnixTimeMilliseconds() - i,
        AcceptedMs = _time.GetUtcNow().ToUnixTimeMilliseconds(),
        PageUrl = $"https://shop.example/thanks?order={i}&q=Zürich",
        TransactionId = $"T-{i}",
        Currency = "EUR",
        Value = 19.99m + i,
        Items = [new CapiItem { Id = $"SKU{i % 7}", Name = "Lampe « Äther »", Price = 19.99m, Quantity = 1 + (i % 3) }],
        Destinations = destinations,
        Consent = 0xFFFF,
        Identity = new IdentityData { Em = new string((char)('a' + (i % 26)), 64), City = "zürich", Ip = $"203.0.113.{i % 250}", UserAgent = $"Mozilla/5.0 Test/{i}" },
    };

    /// <summary>The event's JSON without its sequence number (assigned by the store).</summary>
    private static string Json(CapiEvent e)
    {
        var seq = e.Seq;
        e.Seq = 0;
        var json = JsonSerializer.Serialize(e, CapiJsonContext.Default.CapiEvent);
        e.Seq = seq;
        return json;
    }

    private async Task<List<CapiEvent>> TakeAsync(JournalStore store, CapiDestination d, int max = 100_000)
    {
        var batch = new List<CapiEvent>();
        await store.TakeReadyAsync(d, _time.GetUtcNow().ToUnixTimeMilliseconds(), max, batch, default);
        return batch;
    }

    [Fact]
    public async Task A_tiny_memory_budget_refuses_further_events_and_loses_none_it_accepted()
    {
        var accepted = new Dictionary<string, string>();
        var capacity = (int)(OneMiB / JournalStore.EntryCostBytes);
        await using (var store = Create(maxMemoryBytes: OneMiB))
        {
            await store.OpenAsync(default);
            var last = AcceptStatus.Accepted;
            for (var i = 0; last == AcceptStatus.Accepted && i < capacity * 2; i += 64)
            {
                CapiEvent[] batch = [.. Enumerable.Range(i, 64).Select(n => Event(n))];
                var statuses = await store.AcceptAsync(batch, durable: true, default);
                last = statuses[0];
                Assert.All(statuses, s => Assert.Equal(last, s));
                if (last == AcceptStatus.Accepted)
                {
                    foreach (var e in batch)
                    {
                        accepted[e.EventId] = Json(e);
                    }
                }
            }

            // The bound is the budget, not the disk (64 events per call: the last whole batch that fits).
            Assert.Equal(AcceptStatus.StoreFull, last);
            Assert.Equal(capacity / 64 * 64, accepted.Count);
            Assert.Equal(accepted.Count, (await store.StatisticsAsync(default)).Events);

            // Delivery frees room: the same store accepts again.
            var sent = await TakeAsync(store, CapiDestination.Meta, 128);
            await store.CompleteAsync(CapiDestination.Meta, [.. sent.Select(static e => new Completion(e.Seq, CompletionKind.Delivered))], default);
            foreach (var e in sent)
            {
                accepted.Remove(e.EventId);
            }

            var late = Event(1_000_000);
            Assert.Equal(AcceptStatus.Accepted, (await store.AcceptAsync([late], durable: true, default))[0]);
            accepted[late.EventId] = Json(late);
        }

        // After a restart every accepted, undelivered event is there, byte for byte, and can be delivered.
        await using (var reopened = Create(maxMemoryBytes: OneMiB))
        {
            await reopened.OpenAsync(default);
            var all = await TakeAsync(reopened, CapiDestination.Meta);
            Assert.Equal(accepted.Count, all.Count);
            foreach (var e in all)
            {
                Assert.Equal(accepted[e.EventId], Json(e));
            }

            await reopened.CompleteAsync(CapiDestination.Meta, [.. all.Select(static e => new Completion(e.Seq, CompletionKind.Delivered))], default);
            Assert.Equal(0, (await reopened.StatisticsAsync(default)).Events);
        }
    }

    [Fact]
    public async Task Payloads_are_read_back_from_the_segment_file_not_kept_in_memory()
    {
        await using var store = Create();
        await store.OpenAsync(default);
        var original = Event(7);
        var expected = Json(original);
        Assert.Equal(AcceptStatus.Accepted, (await store.AcceptAsync([original], durable: true, default))[0]);

        // Changing the file behind the store's back changes what it sends: the bytes come from the disk. Same length, so
        // only the content check can notice; the CRC does, and the event is dead-lettered rather than lost or sent wrong.
        var segment = Directory.GetFiles(_store.Path, "*.journal").Single();
        var data = await File.ReadAllBytesAsync(segment);
        var at = IndexOf(data, Encoding.UTF8.GetBytes("Test/7"));
        Assert.True(at > 0);
        data[at + 5] = (byte)'8';
        await File.WriteAllBytesAsync(segment, data);

        Assert.Empty(await TakeAsync(store, CapiDestination.Meta));
        var dead = Assert.Single(await store.DeadLettersAsync(CapiDestination.Meta, 10, default));
        Assert.Contains("unreadable", dead.Error, StringComparison.Ordinal);

        // Put right, a replay sends the original bytes.
        data[at + 5] = (byte)'7';
        await File.WriteAllBytesAsync(segment, data);
        Assert.Equal(1, await store.ReplayAsync(dead.Seq, CapiDestination.Meta, default));
        var back = Assert.Single(await TakeAsync(store, CapiDestination.Meta));
        Assert.Equal(expected, Json(back));
    }

    [Fact]
    public async Task Merges_and_compaction_keep_payloads_byte_identical_across_restarts()
    {
        var expected = new Dictionary<string, string>();
        CapiEvent merged;
        await using (var store = Create(segmentBytes: 64 * 1024, mergeWindow: TimeSpan.FromMinutes(1)))
        {
            await store.OpenAsync(default);
            for (var i = 0; i < 400; i += 20)
            {
                await store.AcceptAsync([.. Enumerable.Range(i, 20).Select(n => Event(n, destinations: 0b0011))], durable: true, default);
            }

            // A repeat within the merge window adds what its twin lacked; the twin is read back, merged and rewritten.
            merged = Event(5, destinations: 0b0011);
            merged.Identity.Ph = new string('9', 64);
            var repeat = Event(5, destinations: 0b0011);
            repeat.Identity = new IdentityData { Ph = new string('9', 64), Em = "ignored: the first report wins" };
            Assert.Equal(AcceptStatus.Merged, (await store.AcceptAsync([repeat], durable: true, default))[0]);

            _time.Advance(TimeSpan.FromMinutes(2));

            // Meta gets everything, TikTok three in four: every segment is a quarter live, so compaction copies the
            // live records of the oldest ones forward and deletes them.
            var meta = await TakeAsync(store, CapiDestination.Meta);
            Assert.Equal(400, meta.Count);
            await store.CompleteAsync(CapiDestination.Meta, [.. meta.Select(static e => new Completion(e.Seq, CompletionKind.Delivered))], default);
            var tiktok = await TakeAsync(store, CapiDestination.TikTok);
            List<CapiEvent> kept = [.. tiktok.Where(static e => int.Parse(e.EventId.AsSpan(2), System.Globalization.CultureInfo.InvariantCulture) % 4 == 1)];
            await store.CompleteAsync(CapiDestination.TikTok, [.. tiktok.Except(kept).Select(static e => new Completion(e.Seq, CompletionKind.Delivered))], default);
            store.Release(CapiDestination.TikTok, kept);
            var segmentsBefore = (await store.StatisticsAsync(default)).Segments;
            store.Sweep();
            _time.Advance(TimeSpan.FromSeconds(3));
            store.Sweep();
            Assert.True((await store.StatisticsAsync(default)).Segments < segmentsBefore, "compaction removed no segment");

            foreach (var e in kept)
            {
                expected[e.EventId] = Json(e);
            }
        }

        Assert.Equal(Json(merged), expected["T-5"]);

        await using (var reopened = Create(segmentBytes: 64 * 1024, mergeWindow: TimeSpan.FromMinutes(1)))
        {
            await reopened.OpenAsync(default);
            Assert.Empty(await TakeAsync(reopened, CapiDestination.Meta));
            var back = await TakeAsync(reopened, CapiDestination.TikTok);
            Assert.Equal(100, back.Count);
            foreach (var e in back)
            {
                Assert.Equal(expected[e.EventId], Json(e));
            }
        }
    }

    [Fact]
    public void The_memory_budget_is_validated_at_start()
    {
        var services = new ServiceCollection();
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Capi:Meta:PixelId"] = "123",
            ["Capi:Meta:AccessToken"] = "token",
            ["Capi:Store:MaxMemoryBytes"] = "4096",
        }).Build();
        services.AddTagGatewayCapi(configuration);
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<CapiOptions>>().Value);
        Assert.Contains("MaxMemoryBytes", string.Join('\n', ex.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Past_the_memory_budget_ingest_answers_503_with_Retry_After_and_keeps_what_it_accepted()
    {
        await using var fake = await FakePlatforms.StartAsync();
        var settings = fake.CapiSettings(_store.Path, tiktok: false, linkedIn: false, google: false);
        settings["Capi:Store:MaxMemoryBytes"] = OneMiB.ToString(System.Globalization.CultureInfo.InvariantCulture);

        // Nothing becomes ready during the test, so delivery cannot free room behind its back.
        settings["Capi:MergeWindow"] = "00:30:00";
        var capacity = (int)(OneMiB / JournalStore.EntryCostBytes);
        var accepted = 0;
        await using (var gateway = await CapiGateway.StartAsync(fake, settings))
        {
            var status = HttpStatusCode.Accepted;
            for (var request = 0; status == HttpStatusCode.Accepted && request < 10; request++)
            {
                var events = string.Join(',', Enumerable.Range(request * 1000, 1000).Select(static i =>
                    $$"""{"event_name":"purchase","event_time":{{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}},"page_url":"https://shop.example/thanks","event_id":"E{{i}}","currency":"EUR","value":1,"user":{"email":"u{{i}}@example.com","user_agent":"UA"},"consent":{"ad_storage":"granted","ad_user_data":"granted"},"region":"US"}"""));
                using var response = await CapiGateway.PostEventsAsync(gateway.Public, $$"""{"events":[{{events}}]}""");
                status = response.StatusCode;
                if (status == HttpStatusCode.Accepted)
                {
                    accepted += 1000;
                    Assert.Contains("\"accepted\":1000", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
                }
                else
                {
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
                    Assert.NotNull(response.Headers.RetryAfter);
                }
            }

            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal(capacity / 1000 * 1000, accepted);
        }

        await using JournalStore reopened = new(new StoreOptions { Path = _store.Path }, TimeSpan.FromHours(48), TimeSpan.Zero, _time, NullLogger.Instance);
        await reopened.OpenAsync(default);
        Assert.Equal(accepted, (await reopened.StatisticsAsync(default)).Events);
    }

    private static int IndexOf(byte[] data, byte[] needle)
    {
        for (var i = 0; i + needle.Length <= data.Length; i++)
        {
            if (data.AsSpan(i, needle.Length).SequenceEqual(needle))
            {
                return i;
            }
        }

        return -1;
    }
}
