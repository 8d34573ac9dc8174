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
/// </summary>
internal sealed class FingerprintLedger
{
    /// <summary>The segment of a key whose event is still live: the event's own full record carries it.</summary>
    public const uint LiveSegment = uint.MaxValue;

    /// <summary>Bytes of one slot (fingerprint 8, expiry 4, sequence 4, segment 4).</summary>
    public const int SlotBytes = 20;

    private const int MinCapacity = 1024;

    /// <summary>
    /// Expiries are kept in milliseconds after <see cref="_baseMs"/> (uint: 49 days). The dedup TTL is at most 30 days,
    /// so the base moves forward once it is this far behind, which keeps every expiry in range.
    /// </summary>
    private const long RebaseAfterMs = 1L << 30;

    private ulong[] _fingerprints;
    private uint[] _expires;
    private uint[] _seqs;
    private uint[] _segments;
    private int _mask;
    private long _baseMs;

    public FingerprintLedger(long nowMs, int capacity = MinCapacity)
    {
        var size = (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(capacity, MinCapacity));
        _fingerprints = new ulong[size];
        _expires = new uint[size];
        _seqs = new uint[size];
        _segments = new uint[size];
        _mask = size - 1;
        _baseMs = nowMs;
    }

    /// <summary>Keys held, expired ones not yet swept included.</summary>
    public int Count { get; private set; }

    public int Capacity => _fingerprints.Length;

    /// <summary>Bytes held by the table's arrays.</summary>
    public long Bytes => (long)Capacity * SlotBytes;

    /// <summary>The fingerprint of a ledger key; never 0 (0 marks an empty slot).</summary>
    public static ulong Fingerprint(UInt128 key)
    {
        var fingerprint = (ulong)key;
        return fingerprint == 0 ? 1 : fingerprint;
    }

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

    /// <summary>Sets (or replaces) a key: the latest wins, as with the dictionary it replaces.</summary>
    public void Set(ulong fingerprint, long seq, long expiresMs, uint segment)
    {
        var i = Find(fingerprint);
        if (i < 0)
        {
            if ((Count + 1) * 4L > Capacity * 3L)
            {
                Resize(Capacity * 2);
            }

            i = (int)fingerprint & _mask;
            while (_fingerprints[i] != 0)
            {
                i = (i + 1) & _mask;
            }

            _fingerprints[i] = fingerprint;
            Count++;
        }

        _expires[i] = Relative(expiresMs);
        _seqs[i] = (uint)seq;
        _segments[i] = segment;
    }

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

    /// <summary>Drops expired keys (backward-shift deletion: no tombstones, probe chains stay short).</summary>
    public void RemoveExpired(long nowMs)
    {
        if (nowMs - _baseMs > RebaseAfterMs)
        {
            Rebase(nowMs);
        }

        var now = Relative(nowMs);
        for (var i = 0; i < _fingerprints.Length; i++)
        {
            // A slot filled by the shift is looked at again.
            while (_fingerprints[i] != 0 && _expires[i] <= now)
            {
                Delete(i);
            }
        }

        // An ingest peak is over: give the memory back (down to a quarter to an eighth full).
        var capacity = Capacity;
        while (capacity > MinCapacity && Count * 8L < capacity)
        {
            capacity /= 2;
        }

        if (capacity != Capacity)
        {
            Resize(capacity);
        }
    }

    private long ExpiresMs(int slot) => _baseMs + _expires[slot];

    private uint Relative(long ms) => (uint)Math.Clamp(ms - _baseMs, 0, uint.MaxValue);

    private int Find(ulong fingerprint)
    {
        var i = (int)fingerprint & _mask;
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

            i = (i + 1) & _mask;
        }
    }

    /// <summary>Knuth's algorithm R: later members of the probe chain move back into the hole where they may.</summary>
    private void Delete(int hole)
    {
        var j = hole;
        while (true)
        {
            j = (j + 1) & _mask;
            var fingerprint = _fingerprints[j];
            if (fingerprint == 0)
            {
                break;
            }

            var home = (int)fingerprint & _mask;
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
        _mask = capacity - 1;
        for (var k = 0; k < fingerprints.Length; k++)
        {
            var fingerprint = fingerprints[k];
            if (fingerprint == 0)
            {
                continue;
            }

            var i = (int)fingerprint & _mask;
            while (_fingerprints[i] != 0)
            {
                i = (i + 1) & _mask;
            }

            _fingerprints[i] = fingerprint;
            _expires[i] = expires[k];
            _seqs[i] = seqs[k];
            _segments[i] = segments[k];
        }
    }
}
