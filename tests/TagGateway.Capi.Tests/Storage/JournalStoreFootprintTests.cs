using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Model;
using TagGateway.Capi.Storage.Journal;
using TagGateway.Capi.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TagGateway.Capi.Tests.Storage;

[CollectionDefinition(nameof(JournalStoreFootprintTests), DisableParallelization = true)]
public sealed class FootprintCollection;

/// <summary>Measures the heap, so it runs alone: other tests' live objects would count.</summary>
[Collection(nameof(JournalStoreFootprintTests))]
public sealed class JournalStoreFootprintTests(ITestOutputHelper output) : IDisposable
{
    private const long OneMiB = 1024 * 1024;
    private readonly TempStoreDirectory _store = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => _store.Dispose();

    private JournalStore Create(long maxMemoryBytes, long segmentBytes, TimeSpan mergeWindow) =>
        new(new StoreOptions { Path = _store.Path, SegmentBytes = segmentBytes, MaxBytes = 256 * OneMiB, MaxMemoryBytes = maxMemoryBytes },
            TimeSpan.FromHours(48), mergeWindow, _time, NullLogger.Instance);

    private CapiEvent Event(int i) => new()
    {
        Origin = EventOrigin.Server,
        Name = "purchase",
        EventId = $"T-{i}",
        TimeMs = _time.GetUtcNow().ToUnixTimeMilliseconds(),
        AcceptedMs = _time.GetUtcNow().ToUnixTimeMilliseconds(),
        PageUrl = $"https://shop.example/thanks?order={i}",
        Destinations = 0b0001,
        Consent = 0xFFFF,
        Identity = new IdentityData { Em = new string('e', 64), Ph = new string('f', 64), UserAgent = $"Mozilla/5.0 Test/{i}" },
    };

    [Fact]
    public async Task A_live_event_costs_no_more_memory_than_the_budget_assumes()
    {
        const int Count = 50_000;
        await using JournalStore store = Create(maxMemoryBytes: 64 * OneMiB, segmentBytes: 64 * OneMiB, mergeWindow: TimeSpan.FromMinutes(5));
        await store.OpenAsync(default);
        await store.AcceptAsync([Event(-1)], durable: true, default);
        long before = GC.GetTotalMemory(forceFullCollection: true);
        for (int i = 0; i < Count; i += 500)
        {
            await store.AcceptAsync([.. Enumerable.Range(i, 500).Select(n => Event(n))], durable: true, default);
        }

        // Forgets the writer's operations, as any ingest or delivery call does.
        await store.AcceptAsync([Event(-2)], durable: true, default);
        long after = GC.GetTotalMemory(forceFullCollection: true);
        double perEvent = (after - before) / (double)Count;
        output.WriteLine($"{perEvent:0} bytes per live event, its ledger key included");

        // The event's dedup key in the ledger (about 70 bytes) is measured here too, though the budget leaves it out.
        Assert.True(perEvent < JournalStore.EntryCostBytes + 70, $"{perEvent:0} bytes per live event");
        Assert.Equal(Count + 2, (await store.StatisticsAsync(default)).Events);
        GC.KeepAlive(store);
    }

}
