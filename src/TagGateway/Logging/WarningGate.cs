namespace TagGateway.Logging;

/// <summary>
/// Lets a recurring warning through at most once per interval, without a lock: a condition that holds on every request
/// must not write a log line per request. Shut, it costs a clock read and a compare.
/// </summary>
internal sealed class WarningGate(TimeProvider time, TimeSpan interval)
{
    private const long Never = long.MinValue;
    private long _last = Never;

    public bool TryEnter()
    {
        var now = time.GetTimestamp();
        var last = Volatile.Read(ref _last);
        if (last != Never && time.GetElapsedTime(last, now) < interval)
        {
            return false;
        }

        // Of several threads that find it open, one writes the line.
        return Interlocked.CompareExchange(ref _last, now, last) == last;
    }
}
