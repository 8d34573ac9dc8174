using TagGateway.Consent.Policy;

namespace TagGateway.Consent.Logging;

/// <summary>Counts every decision and feeds the sampled, asynchronous consent audit log.</summary>
public interface IConsentRecorder
{
    /// <summary>
    /// Records one event's decision: metrics always, the audit log when enabled and sampled in. Never blocks: when the
    /// log queue is full the entry is dropped and counted.
    /// </summary>
    void Record(in ConsentDecision decision, ConsentContext context);
}
