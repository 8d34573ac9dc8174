using TagGateway.Capi.Dedup;

namespace TagGateway.Capi.Tests.Storage;

/// <summary>The dedup ledger's fingerprint table (issue #16) against a dictionary as the model.</summary>
public sealed class FingerprintLedgerTests
{
    private const long Start = 1_764_417_600_000; // 2025-11-29 12:00 UTC

    /// <summary>A budget no test here reaches.</summary>
    private const long Unbounded = 1L << 40;

    [Fact]
    public void Keys_are_found_until_they_expire_and_the_latest_set_wins()
    {
        var ledger = new FingerprintLedger(Start, Unbounded);
        ledger.Set(42, seq: 7, expiresMs: Start + 1_000, FingerprintLedger.LiveSegment, Start);
        Assert.True(ledger.TryGet(42, Start + 999, out var seq));
        Assert.Equal(7u, seq);
        Assert.False(ledger.TryGet(42, Start + 1_000, out _));
        Assert.False(ledger.TryGet(43, Start, out _));

        ledger.Set(42, seq: 9, expiresMs: Start + 5_000, segment: 3, Start);
        Assert.True(ledger.TryGet(42, Start + 4_999, out seq));
        Assert.Equal(9u, seq);
        Assert.Equal(1, ledger.Count);
    }

    [Fact]
    public void A_key_zero_still_has_a_fingerprint_and_fingerprints_are_the_keys_low_64_bits()
    {
        Assert.Equal(1ul, FingerprintLedger.Fingerprint(UInt128.Zero));
        Assert.Equal(0x0123_4567_89AB_CDEFul, FingerprintLedger.Fingerprint(new UInt128(0xFFFF, 0x0123_4567_89AB_CDEF)));
    }

    [Fact]
    public void Random_sets_and_sweeps_agree_with_a_dictionary_through_growth_shrinking_and_a_rebase()
    {
        var random = new Random(16);
        var ledger = new FingerprintLedger(Start, Unbounded);
        var model = new Dictionary<ulong, (long Expires, uint Seq)>();
        var now = Start;
        for (var round = 0; round < 40; round++)
        {
            // Small fingerprints crowd a few home slots, so probe chains wrap and deletions shift entries back.
            var adds = round < 20 ? 3_000 : 200;
            for (var i = 0; i < adds; i++)
            {
                var fingerprint = i % 3 == 0 ? (ulong)random.Next(1, 5_000) : (ulong)random.NextInt64(1, long.MaxValue);
                var expires = now + random.Next(1, 3_600_000);
                var seq = (uint)random.Next();
                ledger.Set(fingerprint, seq, expires, segment: (uint)round, now);
                model[fingerprint] = (expires, seq);
            }

            now += round == 30 ? (1L << 31) : 600_000; // one jump far enough to move the expiry base
            ledger.RemoveExpired(now);
            foreach ((var fingerprint, (var expires, var seq)) in model.ToList())
            {
                var alive = expires > now;
                Assert.Equal(alive, ledger.TryGet(fingerprint, now, out var found));
                if (alive)
                {
                    Assert.Equal(seq, found);
                }
                else
                {
                    model.Remove(fingerprint);
                }
            }

            Assert.Equal(model.Count, ledger.Count);
            Assert.True(ledger.Count * 4L <= ledger.Capacity * 3L, $"{ledger.Count} keys in {ledger.Capacity} slots");
        }

        ledger.RemoveExpired(now + 3_600_000);
        Assert.Equal(0, ledger.Count);
        Assert.True(ledger.Capacity <= 2048, $"{ledger.Capacity} slots after every key expired");
    }

    [Fact]
    public void Compaction_sees_only_the_unexpired_keys_a_segment_carries()
    {
        var ledger = new FingerprintLedger(Start, Unbounded);
        ledger.Set(1, 1, Start + 10_000, segment: 5, Start);
        ledger.Set(2, 2, Start + 10, segment: 5, Start);
        ledger.Set(3, 3, Start + 10_000, segment: 6, Start);
        ledger.Set(4, 4, Start + 10_000, FingerprintLedger.LiveSegment, Start);
        ledger.Retire(4, seq: 4, segment: 5);
        ledger.Retire(3, seq: 99, segment: 5); // a later event owns key 3: it stays where it is

        var slots = ledger.InSegment(5, Start + 100);
        Assert.Equal([1ul, 4ul], slots.Select(ledger.FingerprintAt).Order());
        foreach (var slot in slots)
        {
            ledger.MoveTo(slot, 7);
        }

        Assert.Empty(ledger.InSegment(5, Start + 100));
        Assert.Equal(2, ledger.InSegment(7, Start + 100).Count);
        Assert.Equal(Start + 10_000, ledger.ExpiresAt(slots[0]));
    }
    /// <summary>A budget of 64 KiB: 3,276 slots, so the table tops out at 2,184 (half of it plus itself fit while growing).</summary>
    private const long SmallBudget = 64 * 1024;

    private static ulong Key(int i) => (ulong)(i + 1) * 0x9E37_79B9_7F4A_7C15 | 1;

    [Fact]
    public void At_its_budget_the_table_stops_growing_and_evicts_the_keys_closest_to_expiry()
    {
        const long Ttl = 48 * 3_600_000L;
        var ledger = new FingerprintLedger(Start, SmallBudget);
        var largest = 0;
        const int Inserted = 20_000;
        for (var i = 0; i < Inserted; i++)
        {
            // One key every 10 ms, each living the TTL: the oldest key is always the one closest to expiry.
            var now = Start + (i * 10L);
            ledger.Set(Key(i), seq: i, expiresMs: now + Ttl, FingerprintLedger.LiveSegment, now);
            largest = Math.Max(largest, ledger.Capacity);
            Assert.True(ledger.Bytes <= SmallBudget, $"{ledger.Bytes} bytes after key {i}");
            Assert.True(ledger.Count * 4L <= ledger.Capacity * 3L, $"{ledger.Count} keys in {ledger.Capacity} slots");
        }

        // Growing from half the largest size to it keeps both tables alive at once: that too fits the budget.
        Assert.Equal(ledger.MaxCapacity, largest);
        Assert.True((largest + (largest / 2)) * (long)FingerprintLedger.SlotBytes <= SmallBudget, $"{largest} slots");

        // Every key above the floor is held (the newest ones among them), none at or below it: a clean cut by age.
        var end = Start + ((Inserted - 1) * 10L);
        var held = 0;
        for (var i = 0; i < Inserted; i++)
        {
            var expires = Start + (i * 10L) + Ttl;
            Assert.Equal(expires > ledger.FloorMs, ledger.TryGet(Key(i), end, out var seq));
            held += expires > ledger.FloorMs ? 1 : 0;
            if (expires > ledger.FloorMs)
            {
                Assert.Equal((uint)i, seq);
            }
        }

        Assert.Equal(held, ledger.Count);
        Assert.True(held >= ledger.MaxCapacity / 2, $"only {held} of {ledger.MaxCapacity} slots kept: eviction went too deep");
        Assert.True(ledger.TryGet(Key(Inserted - 1), end, out _));
        Assert.False(ledger.TryGet(Key(0), end, out _));
        Assert.Equal(Inserted - held, ledger.EvictedKeys);

        // The window the floor implies (TTL less how far the floor is ahead) is the age of the oldest key held, give or
        // take the 10 ms between keys.
        Assert.InRange(Ttl - (ledger.FloorMs - end), ((held - 1) * 10L) + 1, held * 10L);
    }

    [Fact]
    public void Under_its_budget_expired_keys_make_room_and_nothing_unexpired_is_evicted()
    {
        var ledger = new FingerprintLedger(Start, SmallBudget);
        // Twice the table's worth of keys, but each lives 1 s and a new one comes every 2 ms: at most 500 are alive.
        for (var i = 0; i < 2 * 2_184 * 4; i++)
        {
            var now = Start + (i * 2L);
            ledger.Set(Key(i), seq: i, expiresMs: now + 1_000, segment: 1, now);
        }

        Assert.Equal(0, ledger.EvictedKeys);
        Assert.Equal(0, ledger.FloorMs);
        var end = Start + ((2 * 2_184 * 4 - 1) * 2L);
        for (var i = 2 * 2_184 * 4 - 499; i < 2 * 2_184 * 4; i++)
        {
            Assert.True(ledger.TryGet(Key(i), end, out _));
        }
    }

    [Fact]
    public void Random_sets_within_a_budget_agree_with_a_dictionary_that_drops_what_the_floor_covers()
    {
        var random = new Random(1616);
        var ledger = new FingerprintLedger(Start, SmallBudget);
        var model = new Dictionary<ulong, (long Expires, uint Seq)>();
        var now = Start;
        for (var i = 0; i < 30_000; i++)
        {
            now += random.Next(0, 20);
            var fingerprint = random.Next(4) == 0 ? (ulong)random.Next(1, 3_000) : (ulong)random.NextInt64(1, long.MaxValue);
            var expires = now + random.Next(1, 200_000);
            var seq = (uint)random.Next();
            var makesRoom = !model.ContainsKey(fingerprint) && ledger.Capacity == ledger.MaxCapacity && (ledger.Count + 1) * 4L > ledger.Capacity * 3L;
            ledger.Set(fingerprint, seq, expires, segment: 1, now);
            if (makesRoom)
            {
                // What a full table does: everything expired or at or below the (new) floor goes, then the key is added.
                var threshold = Math.Max(now, ledger.FloorMs);
                foreach (var key in model.Where(kv => kv.Value.Expires <= threshold).Select(static kv => kv.Key).ToList())
                {
                    model.Remove(key);
                }

                Assert.True(ledger.Count > ledger.Capacity / 2, $"{ledger.Count} keys left in {ledger.Capacity} slots");
            }

            model[fingerprint] = (expires, seq);
            Assert.True(ledger.Bytes <= SmallBudget);
            Assert.True(ledger.Count * 4L <= ledger.Capacity * 3L);
            if (i % 1_000 == 999)
            {
                Assert.Equal(model.Count, ledger.Count);
                foreach ((var key, (var expiresAt, var expectedSeq)) in model)
                {
                    Assert.Equal(expiresAt > now, ledger.TryGet(key, now, out var found));
                    if (expiresAt > now)
                    {
                        Assert.Equal(expectedSeq, found);
                    }
                }
            }
        }

        Assert.True(ledger.EvictedKeys > 0, "the budget was never reached");
    }

    [Fact]
    public void Replay_skips_what_the_floor_covers_and_a_late_floor_drops_keys_restored_before_it()
    {
        var ledger = new FingerprintLedger(Start, SmallBudget);
        ledger.Restore(1, 1, Start + 5_000, segment: 1, Start);
        ledger.Restore(2, 2, Start + 9_000, segment: 1, Start);
        ledger.Restore(3, 3, Start + 10, segment: 1, Start + 20); // expired
        ledger.RaiseFloor(Start + 6_000);
        ledger.Restore(4, 4, Start + 6_000, segment: 2, Start); // at the floor: evicted before the restart
        ledger.RemoveExpired(Start);
        Assert.False(ledger.TryGet(1, Start, out _));
        Assert.True(ledger.TryGet(2, Start, out _));
        Assert.False(ledger.TryGet(3, Start, out _));
        Assert.False(ledger.TryGet(4, Start, out _));
        Assert.Equal(1, ledger.Count);
        Assert.Equal(0, ledger.EvictedKeys);
    }
}
