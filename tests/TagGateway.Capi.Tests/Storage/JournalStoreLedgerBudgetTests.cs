using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Dedup;
using TagGateway.Capi.Model;
using TagGateway.Capi.Observability;
using TagGateway.Capi.Storage;
using TagGateway.Capi.Storage.Journal;

namespace TagGateway.Capi.Tests.Storage;

/// <summary>The journal's dedup ledger under Capi:Store:LedgerMaxBytes (issue #16): bounded, loud, and the same after a restart.</summary>
public sealed class JournalStoreLedgerBudgetTests : IDisposable
{
    /// <summary>64 KiB: a table of at most 2,184 slots, evicting at 1,638 keys down to about 1,365.</summary>
    private const long Budget = 64 * 1024;

    private static readonly TimeSpan Ttl = TimeSpan.FromHours(48);

    private readonly TempStoreDirectory _store = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public void Dispose()
    {
        _services.Dispose();
        _store.Dispose();
    }

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private JournalStore Create(long ledgerMaxBytes = Budget, TimeSpan? ttl = null, long segmentBytes = 1024 * 1024, ILogger? logger = null, CapiMetrics? metrics = null) =>
        new(new StoreOptions { Path = _store.Path, SegmentBytes = segmentBytes, MaxBytes = 256L * 1024 * 1024, LedgerMaxBytes = ledgerMaxBytes },
            ttl ?? Ttl, TimeSpan.Zero, _time, logger ?? NullLogger.Instance, metrics);

    private CapiEvent Event(string id) => new()
    {
        Origin = EventOrigin.Server,
        Name = "purchase",
        EventId = id,
        TimeMs = Now,
        AcceptedMs = Now,
        Destinations = CapiDestination.Meta.Bit(),
        Consent = 0xFFFF,
        Identity = new IdentityData { Em = new string('e', 64) },
    };

    private static UInt128 KeyOf(string id) => DedupKey.Of(CapiDestination.Meta, "purchase", id);

    private static UInt128 Mark(int batch, int i) => DedupKey.Twin(browser: true, "purchase", 't', $"M-{batch}-{i}");

    /// <summary>Whether the ledger holds these keys, asked without adding any (the gap-fill lookup reads the same table).</summary>
    private static async Task<bool[]> HeldAsync(JournalStore store, IReadOnlyList<UInt128> keys) => await store.HasMarksAsync(keys, default);

    private async Task AcceptBatchAsync(JournalStore store, int batch, int count)
    {
        var statuses = await store.AcceptAsync([.. Enumerable.Range(0, count).Select(i => Event($"E-{batch}-{i}"))], durable: true, default);
        Assert.All(statuses, static s => Assert.Equal(AcceptStatus.Accepted, s));
    }

    [Fact]
    public async Task At_the_budget_the_oldest_keys_are_evicted_counted_gauged_logged_once_and_the_newest_still_merge()
    {
        var metrics = new CapiMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        using var evicted = new MetricCollector<long>(metrics.Meter, "taggateway.capi.dedup.evicted");
        using var window = new MetricCollector<double>(metrics.Meter, "taggateway.capi.dedup.window");
        var logger = new FakeLogger();
        await using var store = Create(logger: logger, metrics: metrics);
        await store.OpenAsync(default);

        // 4,000 pending events a minute apart in batches of 100: about two and a half times what the table holds.
        const int Batches = 40;
        var acceptedAt = new long[Batches];
        for (var b = 0; b < Batches; b++)
        {
            acceptedAt[b] = Now;
            await AcceptBatchAsync(store, b, 100);
            Assert.True(store.LedgerBytes <= Budget, $"{store.LedgerBytes} bytes of ledger after batch {b}");
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        var stats = await store.StatisticsAsync(default);
        Assert.InRange(stats.LedgerKeys, 1_300, 1_638);
        Assert.Equal(Batches * 100 - stats.LedgerKeys, evicted.GetMeasurementSnapshot().Sum(static m => m.Value));

        // The gauge is the window left, and it says exactly which batches are still recognised.
        window.RecordObservableInstruments();
        var windowMs = window.LastMeasurement!.Value * 1000;
        Assert.InRange(windowMs, 1, Ttl.TotalMilliseconds - 1);
        var held = await HeldAsync(store, [.. Enumerable.Range(0, Batches).Select(b => KeyOf($"E-{b}-0"))]);
        for (var b = 0; b < Batches; b++)
        {
            Assert.Equal(Now - acceptedAt[b] < windowMs, held[b]);
        }

        Assert.True(held[^1] && !held[0]);

        // One warning, however many evictions the hour had, naming the option to raise.
        var warning = Assert.Single(logger.Collector.GetSnapshot(), static r => r.Id.Id == 5008);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("Capi:Store:LedgerMaxBytes", warning.Message, StringComparison.Ordinal);

        // A repeat of a recent event still merges into its pending twin; one older than the window is stored again.
        Assert.Equal(AcceptStatus.Merged, (await store.AcceptAsync([Event($"E-{Batches - 1}-7")], durable: true, default))[0]);
        Assert.Equal(AcceptStatus.Accepted, (await store.AcceptAsync([Event("E-0-7")], durable: true, default))[0]);
    }

    [Fact]
    public async Task Under_the_budget_expired_keys_make_room_nothing_is_evicted_and_the_window_gauge_is_the_ttl()
    {
        var metrics = new CapiMetrics(_services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>());
        using var evicted = new MetricCollector<long>(metrics.Meter, "taggateway.capi.dedup.evicted");
        using var window = new MetricCollector<double>(metrics.Meter, "taggateway.capi.dedup.window");
        var logger = new FakeLogger();
        var ttl = TimeSpan.FromMinutes(10);
        await using var store = Create(ttl: ttl, logger: logger, metrics: metrics);
        await store.OpenAsync(default);

        // 12,000 events over two hours, but a 10-minute window never holds more than 1,100 keys.
        for (var b = 0; b < 120; b++)
        {
            await AcceptBatchAsync(store, b, 100);
            Assert.True(store.LedgerBytes <= Budget);
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        window.RecordObservableInstruments();
        Assert.Equal(ttl.TotalSeconds, window.LastMeasurement!.Value);
        Assert.Empty(evicted.GetMeasurementSnapshot());
        Assert.DoesNotContain(logger.Collector.GetSnapshot(), static r => r.Id.Id == 5008);
        Assert.All(await HeldAsync(store, [.. Enumerable.Range(111, 9).Select(b => KeyOf($"E-{b}-99"))]), Assert.True);
    }

    [Fact]
    public async Task Compaction_and_replay_after_evictions_rebuild_the_ledger_within_its_budget_agreeing_on_the_recent_keys()
    {
        // Marks and delivered events' keys (both carried by compaction as ledger records), in small segments that
        // compaction keeps rewriting: 60 minutes of 100 marks and 10 events a minute.
        const int Batches = 60;
        var keys = new List<UInt128>();
        bool[] live;
        var store = Create(segmentBytes: 8 * 1024);
        await using (store)
        {
            await store.OpenAsync(default);
            for (var b = 0; b < Batches; b++)
            {
                UInt128[] marks = [.. Enumerable.Range(0, 100).Select(i => Mark(b, i))];
                await store.SetMarksAsync(marks, default);
                keys.AddRange(marks);
                await AcceptBatchAsync(store, b, 10);
                var batch = new List<CapiEvent>();
                await store.TakeReadyAsync(CapiDestination.Meta, Now, 100, batch, default);
                await store.CompleteAsync(CapiDestination.Meta, [.. batch.Select(static e => new Completion(e.Seq, CompletionKind.Delivered))], default);
                keys.AddRange(Enumerable.Range(0, 10).Select(i => KeyOf($"E-{b}-{i}")));
                _time.Advance(TimeSpan.FromMinutes(1));
                if (b == Batches / 2)
                {
                    store.Sweep();
                }
            }

            store.Sweep();
            live = await HeldAsync(store, keys);
            Assert.True(store.LedgerBytes <= Budget);
            Assert.False(live[0], "nothing was evicted");
            Assert.True(Directory.GetFiles(_store.Path, "*.journal").Length > 2, "compaction left nothing to replay across segments");
        }

        await AssertReplayAgreesAsync(Budget, recent: 1_100);

        // A smaller budget after the restart is kept to as well: the newest keys win.
        await AssertReplayAgreesAsync(40 * 1024, recent: 600);

        async Task AssertReplayAgreesAsync(long budget, int recent)
        {
            await using var reopened = Create(ledgerMaxBytes: budget, segmentBytes: 8 * 1024);
            await reopened.OpenAsync(default);
            Assert.True(reopened.LedgerBytes <= budget, $"{reopened.LedgerBytes} bytes replayed into a budget of {budget}");
            var after = await HeldAsync(reopened, keys);
            for (var i = 0; i < keys.Count; i++)
            {
                // Nothing evicted comes back; the recent keys are all there.
                Assert.True(live[i] || !after[i], $"key {i} of {keys.Count} came back after its eviction");
                if (i >= keys.Count - recent)
                {
                    Assert.True(after[i], $"recent key {i} of {keys.Count} lost in replay");
                }
            }
        }
    }
}
