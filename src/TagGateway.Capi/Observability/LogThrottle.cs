namespace TagGateway.Capi.Observability;

/// <summary>
/// At most one log line per window for a noisy event (anyone on the internet can send an unauthenticated request):
/// the first occurrence is logged at once, later ones in the window are only counted, and the next line reports how
/// many were left out. Lock-free; a race may let two lines through at a window boundary, never a flood.
/// </summary>
internal sealed class LogThrottle
{
    private readonly TimeProvider _time;
    private readonly long _windowMs;
    private long _nextMs = long.MinValue;
    private long _suppressed;

    public LogThrottle(TimeProvider time, TimeSpan window)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
        _windowMs = (long)window.TotalMilliseconds;
    }

    /// <summary>True when this occurrence is to be logged; <paramref name="suppressed"/> is how many were not since the last line.</summary>
    public bool ShouldLog(out long suppressed)
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var next = Volatile.Read(ref _nextMs);
        if (now >= next && Interlocked.CompareExchange(ref _nextMs, now + _windowMs, next) == next)
        {
            suppressed = Interlocked.Exchange(ref _suppressed, 0);
            return true;
        }

        Interlocked.Increment(ref _suppressed);
        suppressed = 0;
        return false;
    }
}
