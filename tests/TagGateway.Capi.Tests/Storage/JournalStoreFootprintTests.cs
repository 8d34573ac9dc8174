using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Dedup;
using TagGateway.Capi.Model;
using TagGateway.Capi.Storage;
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

    private JournalStore Create(long maxMemoryBytes, long segmentBytes, TimeSpan mergeWindow, long ledgerMaxBytes = 64 * OneMiB) =>
        new(new StoreOptions { Path = _store.Path, SegmentBytes = segmentBytes, MaxBytes = 256 * OneMiB, MaxMemoryBytes = maxMemoryBytes, LedgerMaxBytes = ledgerMaxBytes },
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
        await using var store = Create(maxMemoryBytes: 64 * OneMiB, segmentBytes: 64 * OneMiB, mergeWindow: TimeSpan.FromMinutes(5));
        await store.OpenAsync(default);
        await store.AcceptAsync([Event(-1)], durable: true, default);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        for (var i = 0; i < Count; i += 500)
        {
            await store.AcceptAsync([.. Enumerable.Range(i, 500).Select(n => Event(n))], durable: true, default);
        }

        // Forgets the writer's operations, as any ingest or delivery call does.
        await store.AcceptAsync([Event(-2)], durable: true, default);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        var perEvent = (after - before) / (double)Count;
        output.WriteLine($"{perEvent:0} bytes per live event, its ledger key included");

        // The event's dedup key in the ledger (about 70 bytes) is measured here too, though the budget leaves it out.
        Assert.True(perEvent < JournalStore.EntryCostBytes + 70, $"{perEvent:0} bytes per live event");
        Assert.Equal(Count + 2, (await store.StatisticsAsync(default)).Events);
        GC.KeepAlive(store);
    }

    /// <summary>
    /// Issue #16: a dedup key outliving its event costs the ledger's slot share, measured on the heap, and the harness's
    /// CAPI run (bench/README.md: 15,811 events/s for 45 s, one destination each, from 36.4 MB idle) stays under the
    /// 120 MB RSS target by arithmetic from that figure.
    /// </summary>
    [Fact]
    public async Task A_dedup_key_outliving_its_event_costs_a_few_dozen_bytes_and_the_harness_run_fits_the_target()
    {
        const int Count = 90_000;
        await using var store = Create(maxMemoryBytes: 64 * OneMiB, segmentBytes: 64 * OneMiB, mergeWindow: TimeSpan.Zero);
        await store.OpenAsync(default);
        // Warm-up: JSON metadata, pooled buffers and the writer reach their steady size before the measurement.
        for (var i = -2_000; i < -1; i += 1_000)
        {
            await DeliverAsync(store, [.. Enumerable.Range(i, 1_000).Select(n => Event(n))]);
        }

        long keysBefore = (await store.StatisticsAsync(default)).LedgerKeys;
        var before = GC.GetTotalMemory(forceFullCollection: true);
        for (var i = 0; i < Count; i += 1_000)
        {
            await DeliverAsync(store, [.. Enumerable.Range(i, 1_000).Select(n => Event(n))]);
        }

        // Forgets the writer's operations, as any ingest or delivery call does.
        await DeliverAsync(store, [Event(-5_000)]);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        var stats = await store.StatisticsAsync(default);
        Assert.Equal(0, stats.Events);
        Assert.Equal(keysBefore + Count + 1, stats.LedgerKeys);
        var perKey = (after - before) / (double)Count;
        var tablePerKey = store.LedgerBytes / (double)stats.LedgerKeys;

        // The table doubles at three quarters full: right after a doubling a key costs 8/3 of a slot.
        var worstPerKey = Math.Max(perKey, FingerprintLedger.SlotBytes * 8.0 / 3);
        const double Rate = 15_811, Seconds = 45, IdleMiB = 36.4, TargetMiB = 120;
        var harnessMiB = Rate * Seconds * worstPerKey / OneMiB;
        var sustainable48h = (TargetMiB - IdleMiB) * OneMiB / worstPerKey / TimeSpan.FromHours(48).TotalSeconds;
        output.WriteLine($"{perKey:0.0} bytes per ledger key measured on the heap, {tablePerKey:0.0} held by the table ({worstPerKey:0.0} worst case); harness run {Rate * Seconds:N0} keys = {harnessMiB:0.0} MiB of ledger; 48 h within {TargetMiB} MB up to {sustainable48h:0} events/s");

        // What it replaces, a Dictionary<UInt128, …> entry plus a per-segment list entry, was about 76 bytes a key
        // before resize slack (bench/README.md).
        Assert.True(perKey < 60, $"{perKey:0.0} bytes per ledger key");
        Assert.InRange(tablePerKey, FingerprintLedger.SlotBytes * 4.0 / 3, FingerprintLedger.SlotBytes * 8.0 / 3);
        Assert.True(IdleMiB + harnessMiB < TargetMiB, $"{IdleMiB + harnessMiB:0.0} MiB");

        // 48 h at that rate (2.7 billion keys) fits no table: the default budget holds the ledger, growth step included,
        // under the target with the idle process, by shortening the window (JournalStoreLedgerBudgetTests).
        Assert.True(IdleMiB + (new StoreOptions().LedgerMaxBytes / (double)OneMiB) < TargetMiB);
        GC.KeepAlive(store);
    }

    /// <summary>Issue #16: at its budget the ledger's heap stops growing, however many keys arrive.</summary>
    [Fact]
    public async Task At_its_budget_the_ledger_keeps_the_heap_bounded_however_many_keys_arrive()
    {
        // The table tops out at 2.7 MiB; the rest of the budget is headroom for what else the process does meanwhile.
        const long Budget = 4 * OneMiB;
        const int Keys = 600_000; // 20 MiB of table without the budget (2^20 slots)
        await using var store = Create(maxMemoryBytes: 64 * OneMiB, segmentBytes: 64 * OneMiB, mergeWindow: TimeSpan.Zero, ledgerMaxBytes: Budget);
        await store.OpenAsync(default);
        await DeliverAsync(store, [Event(-1)]);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var marks = new UInt128[1_000];
        for (var i = 0; i < Keys; i += marks.Length)
        {
            for (var j = 0; j < marks.Length; j++)
            {
                marks[j] = DedupKey.Twin(browser: true, "purchase", 't', $"T-{i + j}");
            }

            await store.SetMarksAsync(marks, default);
            Assert.True(store.LedgerBytes <= Budget, $"{store.LedgerBytes} bytes of ledger after {i + marks.Length} keys");
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        // Forgets the writer's operations, as any ingest or delivery call does.
        await DeliverAsync(store, [Event(-2)]);
        var after = GC.GetTotalMemory(forceFullCollection: true);
        var stats = await store.StatisticsAsync(default);
        output.WriteLine($"{Keys:N0} keys into a {Budget / OneMiB} MiB budget: {stats.LedgerKeys:N0} held in {store.LedgerBytes:N0} bytes, heap grew {(after - before) / (double)OneMiB:0.00} MiB");
        Assert.True(after - before < Budget, $"the heap grew {after - before} bytes");
        Assert.InRange(stats.LedgerKeys, 1, Keys / 4);
        Assert.True((await store.HasMarksAsync([DedupKey.Twin(browser: true, "purchase", 't', $"T-{Keys - 1}")], default))[0]);
        GC.KeepAlive(store);
    }

    private async Task DeliverAsync(JournalStore store, CapiEvent[] events)
    {
        Assert.All(await store.AcceptAsync(events, durable: true, default), static s => Assert.Equal(AcceptStatus.Accepted, s));
        var batch = new List<CapiEvent>();
        await store.TakeReadyAsync(CapiDestination.Meta, _time.GetUtcNow().ToUnixTimeMilliseconds(), events.Length, batch, default);
        Assert.Equal(events.Length, batch.Count);
        await store.CompleteAsync(CapiDestination.Meta, [.. batch.Select(static e => new Completion(e.Seq, CompletionKind.Delivered))], default);
    }
}
