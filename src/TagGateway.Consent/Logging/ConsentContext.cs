namespace TagGateway.Consent.Logging;

/// <summary>
/// Who and what a decision was about, for the audit log. Spans, so a caller need not allocate strings for events
/// that end up sampled out; the client id is hashed before it leaves <see cref="IConsentRecorder.Record"/>.
/// Never pass an IP address or other raw PII here.
/// </summary>
public readonly ref struct ConsentContext
{
    public ConsentContext(ReadOnlySpan<char> tagId, ReadOnlySpan<char> clientId, ReadOnlySpan<char> region = default, ReadOnlySpan<char> eventName = default)
    {
        TagId = tagId;
        ClientId = clientId;
        Region = region;
        EventName = eventName;
    }

    /// <summary>The measurement / tag id (tid), e.g. G-XXXX.</summary>
    public ReadOnlySpan<char> TagId { get; }

    /// <summary>The client id (cid); logged only as a salted hash.</summary>
    public ReadOnlySpan<char> ClientId { get; }

    /// <summary>The region code the decision used, e.g. "DE" or "US-CA".</summary>
    public ReadOnlySpan<char> Region { get; }

    /// <summary>The event name (en).</summary>
    public ReadOnlySpan<char> EventName { get; }
}
