using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Policy;

/// <summary>Turns one event's signals and the visitor's region into the immutable per-destination decision.</summary>
public interface IConsentPolicy
{
    /// <summary>
    /// Decides once per event. <paramref name="region"/> is an ISO country code with optional subdivision ("DE", "US-CA"),
    /// typically from X-Forwarded-CountryRegion; empty or unrecognised means the strict defaults. Does not allocate.
    /// </summary>
    ConsentDecision Decide(in ConsentSignals signals, ReadOnlySpan<char> region);

    /// <summary>Finds a destination (built-in or configured) by name, case-insensitively.</summary>
    bool TryGetDestination(ReadOnlySpan<char> name, out ConsentDestination destination);
}
