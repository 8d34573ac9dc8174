namespace TagGateway.Capi.Dedup;

/// <summary>
/// The journal's dedup ledger in memory: an open-addressing table (linear probing) of 64-bit fingerprints of the
/// <see cref="DedupKey"/>s, with each key's expiry, the low 32 bits of its event's sequence number and the journal segment
/// that must carry it through compaction. Four parallel arrays, 20 bytes a slot, at most three quarters full, instead of a
/// <c>Dictionary&lt;UInt128, …&gt;</c> entry plus a per-segment list entry (about 100 bytes a key). Not thread-safe:
/// the store calls it under its lock.
/// <para>
/// A fingerprint is the first 64 bits of the key, itself SHA-256 over (destination, name, id): uniformly distributed,
/// and nobody can aim an event id at another's fingerprint short of about 2^63 SHA-256 evaluations, so no secret key is
/// needed (and none must survive a restart, since ledger records on disk hold fingerprints). Two different keys sharing
/// a fingerprint would make the second one a false duplicate, a dropped conversion: with n keys alive, each new key
/// collides with probability n / 2^64, so over a whole 48 h window of n keys the expected number of such drops is about
/// n^2 / 2^65 (2^65 = 3.7e19): 2.7e-8 for a million keys, 1.6e-6 for 7.8 million (48 h at 45 events/s), 0.2 for 2.7
/// billion (48 h at the load harness's 15,800 events/s; that size needs a ledger on disk anyway). A merge never rests on the
/// fingerprint alone: the twin's own key is compared in full.
/// </para>
/// <para>
/// Memory is bounded by a budget (<c>Capi:Store:LedgerMaxBytes</c>): the table grows by doubling up to the largest size
/// whose growth step (the old arrays and the new ones alive together) still fits the budget, and never beyond. Once it
/// is three quarters full at that size, an insert first sweeps the expired keys and, if that is not enough, evicts the
/// keys closest to expiry (the oldest) down to five eighths full: a coarse histogram of expiries picks a cut-off, one
/// pass deletes every key at or below it, and the cut-off becomes the <see cref="FloorMs"/>. That is O(n) once per
/// n/8 inserts, O(1) amortised; the effective dedup window is then the TTL less (floor - now).
/// </para>
/// <para>
/// What an eviction costs, precisely: a key only ever makes an event a duplicate (not sent again) or merges it into a
/// waiting twin, so forgetting one never drops a conversion; it can only let a repeat of an event older than the
/// shortened window be sent a second time. The platforms deduplicate such repeats themselves: Meta and TikTok by
/// event_id within 48 h, Google Ads by order id, LinkedIn by eventId. The one repeat no platform absorbs is Google
/// Analytics gap-fill: a browser mark evicted before its backend twin was due lets GA count that purchase twice.
/// Eviction is consistent across a restart: compaction carries only the keys still held, the floor is a journal record
/// carried by compaction, and replay skips what is at or below it and keeps to the same budget.
/// </para>
/// </summary>
internal sealed class FingerprintLedger
{
    /// <summary>The segment of a key whose event is still live: the event's own full record carries it.</summary>
    public const uint LiveSegment = uint.MaxValue;

    /// <summary>Bytes of one slot (fingerprint 8, expiry 4, sequence 4, segment 4).</summary>
    public const int SlotBytes = 20;

    /// <summary>The smallest budget: a minimum-size table and the growth step to it.</summary>
    public const long MinBudgetBytes = MinCapacity * SlotBytes * 3L / 2;

    private const int MinCapacity = 1024;

    /// <summary>Histogram buckets per pass when picking the eviction cut-off.</summary>
    private const int Buckets = 1024;

    /// <summary>Spreads the fingerprint's bits before the home slot is taken from the product's high half.</summary>
    private const ulong Mix = 0x9E37_79B9_7F4A_7C15;

    /// <summary>
    /// Expiries are kept in milliseconds after <see cref="_baseMs"/> (uint: 49 days). The dedup TTL is at most 30 days,
    /// so the base moves forward once it is this far behind, which keeps every expiry in range.
    /// </summary>
    private const long RebaseAfterMs = 1L << 30;

    /// <summary>The largest table: half of it (the arrays it grows from) plus itself fit the budget.</summary>
    private readonly int _maxCapacity;

    private ulong[] _fingerprints;
    private uint[] _expires;
    private uint[] _seqs;
    private uint[] _segments;
    private int _level;
    private long _baseMs;
    private int[]? _histogram;

    public FingerprintLedger(long nowMs, long maxBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, MinBudgetBytes);
        MaxBytes = maxBytes;
        _maxCapacity = (int)Math.Clamp(maxBytes / SlotBytes * 2 / 3, MinCapacity, Array.MaxLength);

        // Sizes are the largest one halved: growing doubles exactly up to it.
        while (_level < 30 && _maxCapacity >> (_level + 1) >= MinCapacity)
        {
            _level++;
        }

        var size = _maxCapacity >> _level;
        _fingerprints = new ulong[size];
        _expires = new uint[size];
        _seqs = new uint[size];
        _segments = new uint[size];
        _baseMs = nowMs;
    }

    /// <summary>Keys held, expired ones not yet swept included.</summary>
    public int Count { get; private set; }

    public int Capacity => _fingerprints.Length;

    /// <summary>The most slots the table ever has (its size at the budget).</summary>
    public int MaxCapacity => _maxCapacity;

    /// <summary>Bytes held by the table's arrays.</summary>
    public long Bytes => (long)Capacity * SlotBytes;

    /// <summary>The budget: the table's arrays never exceed it, not even while growing (old and new arrays alive).</summary>
    public long MaxBytes { get; }

    /// <summary>Unexpired keys evicted to stay within the budget, since this ledger was created.</summary>
    public long EvictedKeys { get; private set; }

    /// <summary>
    /// The latest eviction cut-off: keys expiring at or before it were evicted (0: none ever was). While it is ahead of
    /// the clock the dedup window is shortened by (floor - now).
    /// </summary>
    public long FloorMs { get; private set; }

    /// <summary>The fingerprint of a ledger key; never 0 (0 marks an empty slot).</summary>
    public static ulong Fingerprint(UInt128 key)
    {
        var fingerprint = (ulong)key;
        return fingerprint == 0 ? 1 : fingerprint;
    }

    /// <summary>Keys a table at the budget holds right after an eviction (five eighths of its slots).</summary>
    public static long KeysAfterEviction(long maxBytes) => Math.Clamp(maxBytes / SlotBytes * 2 / 3, MinCapacity, Array.MaxLength) * 5 / 8;

    /// <summary>Whether the key is held and unexpired at <paramref name="nowMs"/>; its sequence number's low 32 bits if so.</summary>
    public bool TryGet(ulong fingerprint, long nowMs, out uint seqLow)
    {
        var i = Find(fingerprint);
        if (i >= 0 && ExpiresMs(i) > nowMs)
        {
            seqLow = _seqs[i];
            return true;
        }

        seqLow = 0;
        return false;
    }

    /// <summary>
    /// Sets (or replaces) a key: the latest wins, as with the dictionary it replaces. A new key at the budget first
    /// makes room (<paramref name="nowMs"/> tells the expired keys from the evictable ones).
    /// </summary>
    public void Set(ulong fingerprint, long seq, long expiresMs, uint segment, long nowMs)
    {
        var i = Find(fingerprint);
        if (i < 0)
        {
            if ((Count + 1) * 4L > Capacity * 3L)
            {
                if (_level > 0)
                {
                    _level--;
                    Resize(_maxCapacity >> _level);
                }
                else
                {
                    MakeRoom(nowMs);
                }
            }

            i = Home(fingerprint);
            while (_fingerprints[i] != 0)
            {
                i = Next(i);
            }

            _fingerprints[i] = fingerprint;
            Count++;
        }

        _expires[i] = Relative(expiresMs);
        _seqs[i] = (uint)seq;
        _segments[i] = segment;
    }

    /// <summary>
    /// Replay's <see cref="Set"/>: a key at or below the floor was evicted before the restart and stays so, and an
    /// expired one is not worth a slot.
    /// </summary>
    public void Restore(ulong fingerprint, long seq, long expiresMs, uint segment, long nowMs)
    {
        if (expiresMs > Math.Max(nowMs, FloorMs))
        {
            Set(fingerprint, seq, expiresMs, segment, nowMs);
        }
    }

    /// <summary>
    /// Takes over an eviction floor read back from the journal; keys at or below it go at the next
    /// <see cref="RemoveExpired"/> (replay runs one after the last record).
    /// </summary>
    public void RaiseFloor(long floorMs) => FloorMs = Math.Max(FloorMs, floorMs);

    /// <summary>
    /// Names the segment that carries a retired event's key from now on, unless a later event took the key over
    /// (its sequence number differs).
    /// </summary>
    public void Retire(ulong fingerprint, long seq, uint segment)
    {
        var i = Find(fingerprint);
        if (i >= 0 && _seqs[i] == (uint)seq)
        {
            _segments[i] = segment;
        }
    }

    /// <summary>
    /// The unexpired keys carried by <paramref name="segment"/> (for compaction), as slot indexes in a list; valid until
    /// the next <see cref="Set"/> or <see cref="RemoveExpired"/>.
    /// </summary>
    public List<int> InSegment(uint segment, long nowMs)
    {
        var found = new List<int>();
        for (var i = 0; i < _fingerprints.Length; i++)
        {
            if (_fingerprints[i] != 0 && _segments[i] == segment && ExpiresMs(i) > nowMs)
            {
                found.Add(i);
            }
        }

        return found;
    }

    public ulong FingerprintAt(int slot) => _fingerprints[slot];

    public uint SeqAt(int slot) => _seqs[slot];

    public long ExpiresAt(int slot) => ExpiresMs(slot);

    public void MoveTo(int slot, uint segment) => _segments[slot] = segment;

    /// <summary>
    /// Drops expired keys and any at or below the eviction floor (backward-shift deletion: no tombstones, probe chains
    /// stay short), then gives memory back after an ingest peak.
    /// </summary>
    public void RemoveExpired(long nowMs)
    {
        DeleteThrough(nowMs, Math.Max(nowMs, FloorMs));

        // An ingest peak is over: give the memory back (down to a quarter to an eighth full).
        var level = _level;
        while (_maxCapacity >> (level + 1) >= MinCapacity && Count * 8L < _maxCapacity >> level)
        {
            level++;
        }

        if (level != _level)
        {
            _level = level;
            Resize(_maxCapacity >> level);
        }
    }

    /// <summary>
    /// At the budget and three quarters full: expired keys go first; if the table is still over five eighths full, the
    /// keys closest to expiry go too, down to about five eighths.
    /// </summary>
    private void MakeRoom(long nowMs)
    {
        DeleteThrough(nowMs, Math.Max(nowMs, FloorMs));
        var excess = Count - (Capacity * 5L / 8);
        if (excess <= 0)
        {
            return;
        }

        var cutOff = CutOff(excess);
        var before = Count;
        DeleteThrough(nowMs, cutOff);
        EvictedKeys += before - Count;
        FloorMs = Math.Max(FloorMs, cutOff);
    }

    /// <summary>
    /// The expiry at or below which at least <paramref name="excess"/> keys lie, and at most about a quarter more: a
    /// histogram of the expiries over their range, narrowed to the bucket where the count is reached until that bucket
    /// is small enough or one millisecond wide. A few passes over the table, no sort, no allocation after the first.
    /// </summary>
    private long CutOff(long excess)
    {
        uint lo = uint.MaxValue, hi = 0;
        for (var i = 0; i < _fingerprints.Length; i++)
        {
            if (_fingerprints[i] != 0)
            {
                lo = Math.Min(lo, _expires[i]);
                hi = Math.Max(hi, _expires[i]);
            }
        }

        var histogram = _histogram ??= new int[Buckets];
        var slack = Math.Max(1, excess / 4);
        long below = 0;
        while (true)
        {
            var width = (((long)hi - lo) / Buckets) + 1;
            Array.Clear(histogram);
            for (var i = 0; i < _fingerprints.Length; i++)
            {
                var expires = _expires[i];
                if (_fingerprints[i] != 0 && expires >= lo && expires <= hi)
                {
                    histogram[(int)((expires - lo) / width)]++;
                }
            }

            var cumulative = below;
            var b = 0;
            for (; b < Buckets - 1; b++)
            {
                if (cumulative + histogram[b] >= excess)
                {
                    break;
                }

                cumulative += histogram[b];
            }

            var bucketLo = lo + (b * width);
            var bucketHi = Math.Min(hi, bucketLo + width - 1);
            if (width == 1 || cumulative + histogram[b] - excess <= slack)
            {
                return _baseMs + bucketHi;
            }

            // The bucket holds too many keys to evict whole: look inside it.
            below = cumulative;
            lo = (uint)bucketLo;
            hi = (uint)bucketHi;
        }
    }

    /// <summary>Deletes every key expiring at or before <paramref name="thresholdMs"/>.</summary>
    private void DeleteThrough(long nowMs, long thresholdMs)
    {
        if (nowMs - _baseMs > RebaseAfterMs)
        {
            Rebase(nowMs);
        }

        var threshold = Relative(thresholdMs);
        for (var i = 0; i < _fingerprints.Length; i++)
        {
            // A slot filled by the shift is looked at again.
            while (_fingerprints[i] != 0 && _expires[i] <= threshold)
            {
                Delete(i);
            }
        }
    }

    private long ExpiresMs(int slot) => _baseMs + _expires[slot];

    private uint Relative(long ms) => (uint)Math.Clamp(ms - _baseMs, 0, uint.MaxValue);

    /// <summary>The home slot: the high half of (mixed fingerprint × capacity), so any table size works, not only powers of two.</summary>
    private int Home(ulong fingerprint) => (int)Math.BigMul(fingerprint * Mix, (ulong)_fingerprints.Length, out _);

    private int Next(int i) => i + 1 == _fingerprints.Length ? 0 : i + 1;

    private int Find(ulong fingerprint)
    {
        var i = Home(fingerprint);
        while (true)
        {
            var at = _fingerprints[i];
            if (at == fingerprint)
            {
                return i;
            }

            if (at == 0)
            {
                return -1;
            }

            i = Next(i);
        }
    }

    /// <summary>Knuth's algorithm R: later members of the probe chain move back into the hole where they may.</summary>
    private void Delete(int hole)
    {
        var j = hole;
        while (true)
        {
            j = Next(j);
            var fingerprint = _fingerprints[j];
            if (fingerprint == 0)
            {
                break;
            }

            var home = Home(fingerprint);
            // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
            var stays = hole <= j ? hole < home && home <= j : hole < home || home <= j;
            if (stays)
            {
                continue;
            }

            _fingerprints[hole] = fingerprint;
            _expires[hole] = _expires[j];
            _seqs[hole] = _seqs[j];
            _segments[hole] = _segments[j];
            hole = j;
        }

        _fingerprints[hole] = 0;
        Count--;
    }

    private void Rebase(long nowMs)
    {
        var shift = (uint)Math.Min(nowMs - _baseMs, uint.MaxValue);
        for (var i = 0; i < _expires.Length; i++)
        {
            _expires[i] = _expires[i] > shift ? _expires[i] - shift : 0;
        }

        _baseMs += shift;
    }

    private void Resize(int capacity)
    {
        var fingerprints = _fingerprints;
        uint[] expires = _expires, seqs = _seqs, segments = _segments;
        _fingerprints = new ulong[capacity];
        _expires = new uint[capacity];
        _seqs = new uint[capacity];
        _segments = new uint[capacity];
        for (var k = 0; k < fingerprints.Length; k++)
        {
            var fingerprint = fingerprints[k];
            if (fingerprint == 0)
            {
                continue;
            }

            var i = Home(fingerprint);
            while (_fingerprints[i] != 0)
            {
                i = Next(i);
            }

            _fingerprints[i] = fingerprint;
            _expires[i] = expires[k];
            _seqs[i] = seqs[k];
            _segments[i] = segments[k];
        }
    }
}
