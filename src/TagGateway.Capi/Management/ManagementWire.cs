namespace TagGateway.Capi.Management;

internal sealed class DeadLetterList
{
    public int Count { get; set; }

    public List<DeadLetterView> DeadLetters { get; set; } = [];
}

internal sealed class DeadLetterView
{
    public long Id { get; set; }

    public string Destination { get; set; } = string.Empty;

    public string EventName { get; set; } = string.Empty;

    public string EventId { get; set; } = string.Empty;

    /// <summary>Null when the stored time is outside what a date can hold (see <see cref="EventTimeMs"/>).</summary>
    public DateTimeOffset? EventTime { get; set; }

    /// <summary>The stored value as is, Unix milliseconds.</summary>
    public long EventTimeMs { get; set; }

    public DateTimeOffset? FailedAt { get; set; }

    /// <summary>The platform's error, as it answered.</summary>
    public string Error { get; set; } = string.Empty;
}

internal sealed class ReplayResult
{
    public long Id { get; set; }

    public int Replayed { get; set; }
}

internal sealed class StoreView
{
    public long Bytes { get; set; }

    public long MaxBytes { get; set; }

    public int Segments { get; set; }

    public int Events { get; set; }

    public int LedgerKeys { get; set; }

    public int DeadLetters { get; set; }

    public Dictionary<string, int> Pending { get; set; } = [];

    public long HitsDropped { get; set; }
}
