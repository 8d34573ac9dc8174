using TagGateway.Consent.Policy;

namespace TagGateway.Consent.Logging;

/// <summary>One queued audit-log entry. Holds only the hashed client id: the raw one never reaches the queue.</summary>
internal readonly struct ConsentLogEntry
{
    public ConsentLogEntry(DateTimeOffset time, in ConsentDecision decision, string? tagId, string? clientHash, string? region, string? eventName)
    {
        Time = time;
        Decision = decision;
        TagId = tagId;
        ClientHash = clientHash;
        Region = region;
        EventName = eventName;
    }

    public DateTimeOffset Time { get; }

    public ConsentDecision Decision { get; }

    public string? TagId { get; }

    public string? ClientHash { get; }

    public string? Region { get; }

    public string? EventName { get; }
}
