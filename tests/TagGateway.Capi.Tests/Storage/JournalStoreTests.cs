using System.Buffers.Binary;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Dedup;
using TagGateway.Capi.Model;
using TagGateway.Capi.Storage;
using TagGateway.Capi.Storage.Journal;
using TagGateway.Capi.Tests.Infrastructure;

namespace TagGateway.Capi.Tests.Storage;

public sealed class JournalStoreTests : IDisposable
{
    private readonly TempStoreDirectory _store = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => _store.Dispose();

    private JournalStore Create(long segmentBytes = 1024 * 1024, long maxBytes = 64L * 1024 * 1024) =>
        new(new StoreOptions { Path = _store.Path, SegmentBytes = segmentBytes, MaxBytes = maxBytes }, TimeSpan.FromHours(48), TimeSpan.Zero, _time, NullLogger.Instance);

    private CapiEvent Event(string id, int destinations = 0b0011, string? email = null) => new()
    {
        Origin = EventOrigin.Server,
        Name = "purchase",
        EventId = id,
        TimeMs = _time.GetUtcNow().ToUnixTimeMilliseconds(),
        AcceptedMs = _time.GetUtcNow().ToUnixTimeMilliseconds(),
        Destinations = destinations,
        Consent = 0xFFFF,
        Identity = new IdentityData { Em = email },
    };

    private async Task<List<CapiEvent>> TakeAsync(JournalStore store, CapiDestination d, int max = 1000)
    {
        var batch = new List<CapiEvent>();
        await store.TakeReadyAsync(d, _time.GetUtcNow().ToUnixTimeMilliseconds(), max, batch, default);
        return batch;
    }

    [Fact]
    public async Task Acknowledged_events_survive_a_reopen_and_completed_ones_do_not_come_back()
    {
        await using (var store = Create())
        {
            await store.OpenAsync(default);
            var statuses = await store.AcceptAsync([Event("a"), Event("b"), Event("c")], durable: true, default);
            Assert.All(statuses, static s => Assert.Equal(AcceptStatus.Accepted, s));
            var meta = await TakeAsync(store, CapiDestination.Meta, 2);
            await store.CompleteAsync(CapiDestination.Meta, [.. meta.Select(static e => new Completion(e.Seq, CompletionKind.Delivered))], default);
        }

        await using (var reopened = Create())
        {
            await reopened.OpenAsync(default);
            Assert.Equal(["c"], (await TakeAsync(reopened, CapiDestination.Meta)).Select(static e => e.EventId));
            Assert.Equal(["a", "b", "c"], (await TakeAsync(reopened, CapiDestination.TikTok)).Select(static e => e.EventId));

            // The ledger came back too: the same events again are duplicates.
            var again = await reopened.AcceptAsync([Event("a", destinations: 0b0001)], durable: true, default);
            Assert.Equal(AcceptStatus.Duplicate, again[0]);
        }
    }

    [Fact]
    public async Task A_torn_tail_from_a_crash_is_cut_off_and_everything_before_it_kept()
    {
        await using (var store = Create())
        {
            await store.OpenAsync(default);
            await store.AcceptAsync([Event("x"), Event("y")], durable: true, default);
        }

        var segment = Directory.GetFiles(_store.Path, "*.journal").Single();
        var intact = new FileInfo(segment).Length;
        await using (var stream = new FileStream(segment, FileMode.Append))
        {
            // Half a record: a length promising more than was written.
            stream.Write([200, 0, 0, 0, 1, 2, 3, 4, 1, 9, 9]);
        }

        await using (var reopened = Create())
        {
            await reopened.OpenAsync(default);
            Assert.Equal(["x", "y"], (await TakeAsync(reopened, CapiDestination.Meta)).Select(static e => e.EventId));
        }

        Assert.Equal(intact, new FileInfo(segment).Length);
    }

    [Fact]
    public async Task A_pending_twin_absorbs_the_newcomers_identity_and_the_merge_is_durable()
    {
        await using (var store = Create())
        {
            await store.OpenAsync(default);
            await store.AcceptAsync([Event("T1", email: null)], durable: false, default);
            var merged = await store.AcceptAsync([Event("T1", email: "hash-of-email")], durable: true, default);
            Assert.Equal(AcceptStatus.Merged, merged[0]);
        }

        await using (var reopened = Create())
        {
            await reopened.OpenAsync(default);
            var e = Assert.Single(await TakeAsync(reopened, CapiDestination.Meta));
            Assert.Equal("hash-of-email", e.Identity.Em);
        }
    }

    [Fact]
    public async Task An_event_already_taken_for_sending_is_not_merged_into_but_counted_a_duplicate()
    {
        await using var store = Create();
        await store.OpenAsync(default);
        await store.AcceptAsync([Event("T2", destinations: 0b0001)], durable: true, default);
        Assert.Single(await TakeAsync(store, CapiDestination.Meta));
        var late = await store.AcceptAsync([Event("T2", destinations: 0b0001, email: "e")], durable: true, default);
        Assert.Equal(AcceptStatus.Duplicate, late[0]);
    }

    [Fact]
    public async Task Compaction_frees_delivered_segments_but_keeps_dedup_keys_and_pending_events()
    {
        await using (var store = Create(segmentBytes: 64 * 1024))
        {
            await store.OpenAsync(default);
            for (var round = 0; round < 8; round++)
            {
                var batch = Enumerable.Range(0, 100).Select(i => Event($"E-{round}-{i}", destinations: 0b0001)).ToList();
                await store.AcceptAsync(batch, durable: true, default);
                if (round < 7)
                {
                    var taken = await TakeAsync(store, CapiDestination.Meta);
                    await store.CompleteAsync(CapiDestination.Meta, [.. taken.Select(static e => new Completion(e.Seq, CompletionKind.Delivered))], default);
                }
            }

            var segmentsBefore = Directory.GetFiles(_store.Path, "*.journal").Length;
            _time.Advance(TimeSpan.FromSeconds(5));
            store.Sweep();
            await store.AcceptAsync([Event("flush", destinations: 0b0010)], durable: true, default);
            Assert.True(segmentsBefore > 2, $"{segmentsBefore} segments");
            Assert.True(Directory.GetFiles(_store.Path, "*.journal").Length < segmentsBefore, "compaction deleted delivered segments");
        }

        await using (var reopened = Create(segmentBytes: 64 * 1024))
        {
            await reopened.OpenAsync(default);
            Assert.Equal(100, (await TakeAsync(reopened, CapiDestination.Meta)).Count); // round 7 still pending
            var old = await reopened.AcceptAsync([Event("E-0-5", destinations: 0b0001)], durable: true, default);
            Assert.Equal(AcceptStatus.Duplicate, old[0]); // its key outlived its compacted segment
        }
    }

    [Fact]
    public async Task Dead_letters_survive_a_reopen_and_replay_makes_them_pending()
    {
        long seq;
        await using (var store = Create())
        {
            await store.OpenAsync(default);
            await store.AcceptAsync([Event("dl", destinations: 0b0001)], durable: true, default);
            seq = (await TakeAsync(store, CapiDestination.Meta)).Single().Seq;
            await store.CompleteAsync(CapiDestination.Meta, [new Completion(seq, CompletionKind.DeadLettered, "code 190: token expired")], default);
            Assert.Empty(await TakeAsync(store, CapiDestination.Meta));
        }

        await using (var reopened = Create())
        {
            await reopened.OpenAsync(default);
            var letter = Assert.Single(await reopened.DeadLettersAsync(null, 10, default));
            Assert.Equal("code 190: token expired", letter.Error);
            Assert.Empty(await TakeAsync(reopened, CapiDestination.Meta));
            Assert.Equal(1, await reopened.ReplayAsync(seq, CapiDestination.Meta, default));
            Assert.Single(await TakeAsync(reopened, CapiDestination.Meta));
            Assert.Empty(await reopened.DeadLettersAsync(null, 10, default));
        }
    }

    [Fact]
    public async Task At_the_disk_bound_new_events_are_refused_not_old_ones_evicted()
    {
        await using var store = Create(segmentBytes: 64 * 1024, maxBytes: 128 * 1024);
        await store.OpenAsync(default);
        var last = AcceptStatus.Accepted;
        var accepted = 0;
        for (var i = 0; i < 2000 && last != AcceptStatus.StoreFull; i++)
        {
            last = (await store.AcceptAsync([Event($"F-{i}", destinations: 0b0001, email: new string('e', 64))], durable: false, default))[0];
            accepted += last == AcceptStatus.Accepted ? 1 : 0;
        }

        Assert.Equal(AcceptStatus.StoreFull, last);
        Assert.Equal(accepted, (await TakeAsync(store, CapiDestination.Meta, 10_000)).Count);
        Assert.True((await store.StatisticsAsync(default)).Bytes <= 128 * 1024);
    }

    [Fact]
    public async Task Ledger_records_written_before_the_fingerprint_table_still_make_duplicates_after_an_upgrade()
    {
        // A segment as the store wrote it before issue #16: one ledger record with the whole 128-bit key.
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var payload = new byte[16 + 8 + 8];
        BinaryPrimitives.WriteUInt128LittleEndian(payload, DedupKey.Of(CapiDestination.Meta, "purchase", "OLD-1"));
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(16), 7);
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(24), now + 3_600_000);
        var record = new byte[JournalFormat.HeaderSize + payload.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(4), JournalFormat.Crc((byte)RecordType.Ledger, payload));
        record[8] = (byte)RecordType.Ledger;
        payload.CopyTo(record.AsSpan(JournalFormat.HeaderSize));
        Directory.CreateDirectory(_store.Path);
        await File.WriteAllBytesAsync(Path.Combine(_store.Path, JournalFormat.SegmentName(1)), record);

        await using var store = Create();
        await store.OpenAsync(default);
        Assert.Equal(AcceptStatus.Duplicate, (await store.AcceptAsync([Event("OLD-1", destinations: 0b0001)], durable: true, default))[0]);
        Assert.Equal(AcceptStatus.Accepted, (await store.AcceptAsync([Event("OLD-1", destinations: 0b0010)], durable: true, default))[0]);
        Assert.Equal(8, Assert.Single(await TakeAsync(store, CapiDestination.TikTok)).Seq); // numbering goes on after the record's

        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(AcceptStatus.Accepted, (await store.AcceptAsync([Event("OLD-1", destinations: 0b0001)], durable: true, default))[0]);
    }
}
