using TagGateway.Configuration;

namespace TagGateway.Scripts;

/// <summary>
/// A token bucket on upstream fetches for keys the cache holds nothing for. Every new key costs an upstream round
/// trip and a compression, so a flood of distinct keys (a real parameter varied on purpose, every region of the
/// world at once) is served at <c>MaxMissesPerSecond</c> after a burst of <c>MissBurst</c>, and refused beyond it,
/// instead of taking every core from the requests that hit. Keys already cached (fresh, stale or being revalidated)
/// never spend a token.
/// </summary>
internal sealed class ScriptMissBudget
{
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly double _perSecond;
    private readonly double _burst;
    private double _tokens;
    private long _lastRefill;
    private long _refusedSinceReport;
    private long _lastReport;

    public ScriptMissBudget(GatewayOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _time = time;
        _perSecond = options.Scripts.MaxMissesPerSecond;
        _burst = options.Scripts.MissBurst;
        _tokens = _burst;
        _lastRefill = time.GetTimestamp();
        _lastReport = _lastRefill - time.TimestampFrequency;
    }

    /// <summary>Takes one token; false when the bucket is empty.</summary>
    public bool TryTake()
    {
        lock (_lock)
        {
            Refill();
            if (_tokens >= 1)
            {
                _tokens -= 1;
                return true;
            }

            _refusedSinceReport++;
            return false;
        }
    }

    /// <summary>Whole seconds until the next token (at least 1), for <c>Retry-After</c>.</summary>
    public int RetryAfterSeconds
    {
        get
        {
            lock (_lock)
            {
                Refill();
                var missing = Math.Max(0, 1 - _tokens);
                return Math.Max(1, (int)Math.Ceiling(missing / _perSecond));
            }
        }
    }

    /// <summary>
    /// At most once a second: how many misses were refused since the last report (one log line per second under a
    /// flood, not one per refused request).
    /// </summary>
    public bool TryReport(out long refused)
    {
        lock (_lock)
        {
            var now = _time.GetTimestamp();
            if (_refusedSinceReport == 0 || _time.GetElapsedTime(_lastReport, now) < TimeSpan.FromSeconds(1))
            {
                refused = 0;
                return false;
            }

            refused = _refusedSinceReport;
            _refusedSinceReport = 0;
            _lastReport = now;
            return true;
        }
    }

    private void Refill()
    {
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(_lastRefill, now).TotalSeconds;
        if (elapsed > 0)
        {
            _tokens = Math.Min(_burst, _tokens + elapsed * _perSecond);
            _lastRefill = now;
        }
    }
}
