using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TagGateway.Consent.Configuration;
using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Policy;

/// <summary>The policy over the current options: a snapshot built at start and rebuilt whole when configuration reloads.</summary>
internal sealed partial class ConsentPolicy : IConsentPolicy, IDisposable
{
    private readonly ILogger<ConsentPolicy> _logger;
    private readonly IDisposable? _subscription;
    private volatile ConsentPolicySnapshot _snapshot;

    public ConsentPolicy(IOptionsMonitor<ConsentOptions> options, ILogger<ConsentPolicy> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _logger = logger;
        _snapshot = ConsentPolicySnapshot.Create(options.CurrentValue);
        _subscription = options.OnChange(Reload);
    }

    internal ConsentPolicySnapshot Snapshot => _snapshot;

    public ConsentDecision Decide(in ConsentSignals signals, ReadOnlySpan<char> region) => _snapshot.Decide(signals, region);

    public bool TryGetDestination(ReadOnlySpan<char> name, out ConsentDestination destination)
    {
        var found = _snapshot.Destinations.TryGetIndex(name, out var index);
        // Not found maps to an index no decision holds, so a caller that ignores the result still gets "blocked".
        destination = found ? (ConsentDestination)index : (ConsentDestination)(-1);
        return found;
    }

    public void Dispose() => _subscription?.Dispose();

    private void Reload(ConsentOptions options)
    {
        try
        {
            var snapshot = ConsentPolicySnapshot.Create(options);
            _snapshot = snapshot;
            Log.PolicyReloaded(_logger, snapshot.Destinations.Count, snapshot.Regions.Configured.Count);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            // A bad reload keeps the last good policy rather than failing every request.
            Log.PolicyReloadFailed(_logger, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Consent policy reloaded: {DestinationCount} destinations, {RegionCount} configured regions.")]
        public static partial void PolicyReloaded(ILogger logger, int destinationCount, int regionCount);

        [LoggerMessage(EventId = 3002, Level = LogLevel.Error, Message = "Consent policy reload failed; keeping the previous policy.")]
        public static partial void PolicyReloadFailed(ILogger logger, Exception exception);
    }
}
