using TagGateway.Capi.Model;

namespace TagGateway.Capi.Storage;

/// <summary>
/// The durable outbox and dedup ledger. Accepting an event checks the ledger for (destination, event name, event id):
/// a twin still waiting to be sent absorbs the newcomer's identity (merge), a twin already sent makes it a duplicate.
/// Events stay until every destination has acknowledged, dropped or dead-lettered them. The journal implementation is
/// the embedded default; a Redis one (issue #6) implements the same contract.
/// </summary>
internal interface ICapiStore : IAsyncDisposable
{
    /// <summary>Opens the store and replays it: everything accepted before a crash is pending again.</summary>
    Task OpenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Dedups, merges and appends. With <paramref name="durable"/>, completes only once the events are on disk (fsync),
    /// so a caller may acknowledge them; otherwise returns as soon as they are queued for the disk.
    /// </summary>
    ValueTask<AcceptStatus[]> AcceptAsync(IReadOnlyList<CapiEvent> events, bool durable, CancellationToken cancellationToken);

    /// <summary>
    /// Takes up to <paramref name="max"/> events ready for a destination (merge window over) and marks them in flight.
    /// Async because Redis asks the network; the embedded journal answers from memory, synchronously completed.
    /// </summary>
    ValueTask<int> TakeReadyAsync(CapiDestination destination, long nowMs, int max, List<CapiEvent> batch, CancellationToken cancellationToken);

    /// <summary>Puts in-flight events back (a retryable failure): they are sent again later.</summary>
    void Release(CapiDestination destination, IReadOnlyList<CapiEvent> events);

    /// <summary>Records the end of in-flight events for a destination: delivered, dropped (stale) or dead-lettered with the platform's error.</summary>
    ValueTask CompleteAsync(CapiDestination destination, IReadOnlyList<Completion> completions, CancellationToken cancellationToken);

    /// <summary>Completes when a destination may have new work, or after <paramref name="timeout"/>.</summary>
    Task WaitForWorkAsync(CapiDestination destination, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>When the earliest pending event of a destination becomes ready (Unix ms), or null when none is pending.</summary>
    long? NextReadyMs(CapiDestination destination);

    /// <summary>Dead letters in sequence order, up to <paramref name="limit"/>.</summary>
    ValueTask<IReadOnlyList<DeadLetter>> DeadLettersAsync(CapiDestination? destination, int limit, CancellationToken cancellationToken);

    /// <summary>Moves a dead letter (one destination, or all of the event's) back to pending; returns how many destinations were replayed.</summary>
    ValueTask<int> ReplayAsync(long seq, CapiDestination? destination, CancellationToken cancellationToken);

    /// <summary>
    /// How much longer than the merge window a destination's events wait before they are ready (Google Analytics'
    /// gap-fill window). Set before <see cref="OpenAsync"/>.
    /// </summary>
    void SetReadyDelay(CapiDestination destination, TimeSpan delay);

    /// <summary>
    /// Sets gap-fill marks (<c>DedupKey.Twin</c>) for the dedup TTL: in the journal (so they survive a restart) or in
    /// Redis (so every instance sees them).
    /// </summary>
    ValueTask SetMarksAsync(IReadOnlyList<UInt128> keys, CancellationToken cancellationToken);

    /// <summary>Whether each gap-fill mark is set.</summary>
    ValueTask<bool[]> HasMarksAsync(IReadOnlyList<UInt128> keys, CancellationToken cancellationToken);

    ValueTask<StoreStatistics> StatisticsAsync(CancellationToken cancellationToken);
}

internal enum AcceptStatus
{
    /// <summary>Stored for at least one destination.</summary>
    Accepted = 0,

    /// <summary>Its twin was still waiting: identity merged into it, nothing new stored.</summary>
    Merged = 1,

    /// <summary>Every destination already had it.</summary>
    Duplicate = 2,

    /// <summary>No destination takes it (unmapped event or consent denied everywhere).</summary>
    NoDestination = 3,

    /// <summary>The store is at its disk bound.</summary>
    StoreFull = 4,
}

internal enum CompletionKind : byte
{
    Delivered = 1,
    Dropped = 2,
    DeadLettered = 3,
    Replayed = 4,
}

internal readonly record struct Completion(long Seq, CompletionKind Kind, string? Error = null);

internal sealed record DeadLetter(long Seq, CapiDestination Destination, string EventName, string EventId, long EventTimeMs, long FailedMs, string Error);

internal readonly record struct StoreStatistics(long Bytes, int Segments, int Events, int LedgerKeys, int DeadLetters, int[] Pending);
