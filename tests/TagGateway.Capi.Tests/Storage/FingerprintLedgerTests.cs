using TagGateway.Capi.Dedup;

namespace TagGateway.Capi.Tests.Storage;

/// <summary>The dedup ledger's fingerprint table (issue #16) against a dictionary as the model.</summary>
public sealed class FingerprintLedgerTests
{
    private const long Start = 1_764_417_600_000; // 2025-11-29 12:00 UTC

    [Fact]
    public void Keys_are_found_until_they_expire_and_the_latest_set_wins()
    {
        var ledger = new FingerprintLedger(Start);
        ledger.Set(42, seq: 7, expiresMs: Start + 1_000, FingerprintLedger.LiveSegment);
        Assert.True(ledger.TryGet(42, Start + 999, out var seq));
        Assert.Equal(7u, seq);
        Assert.False(ledger.TryGet(42, Start + 1_000, out _));
        Assert.False(ledger.TryGet(43, Start, out _));

        ledger.Set(42, seq: 9, expiresMs: Start + 5_000, segment: 3);
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
        var ledger = new FingerprintLedger(Start);
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
                ledger.Set(fingerprint, seq, expires, segment: (uint)round);
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
        var ledger = new FingerprintLedger(Start);
        ledger.Set(1, 1, Start + 10_000, segment: 5);
        ledger.Set(2, 2, Start + 10, segment: 5);
        ledger.Set(3, 3, Start + 10_000, segment: 6);
        ledger.Set(4, 4, Start + 10_000, FingerprintLedger.LiveSegment);
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
}
