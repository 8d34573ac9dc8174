using System.Diagnostics.Metrics;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Logging;

/// <summary>Consent counters on the "TagGateway.Consent" meter, created through IMeterFactory so tests and hosts own their meters.</summary>
internal sealed class ConsentMetrics
{
    public const string MeterName = "TagGateway.Consent";

    private readonly Counter<long> _decisions;
    private readonly Counter<long> _malformed;
    private readonly Counter<long> _logWritten;
    private readonly Counter<long> _logDropped;

    public ConsentMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        Meter meter = meterFactory.Create(MeterName);
        _decisions = meter.CreateCounter<long>("taggateway.consent.decisions", "{decision}", "Per-destination consent decisions, by destination and outcome.");
        _malformed = meter.CreateCounter<long>("taggateway.consent.signals.malformed", "{signal}", "Consent parameters present but unreadable, by parameter.");
        _logWritten = meter.CreateCounter<long>("taggateway.consent.log.written", "{entry}", "Consent audit-log entries written.");
        _logDropped = meter.CreateCounter<long>("taggateway.consent.log.dropped", "{entry}", "Consent audit-log entries dropped because the queue was full.");
    }

    public void RecordDecision(in ConsentDecision decision)
    {
        if (_decisions.Enabled)
        {
            int count = decision.DestinationCount;
            for (int i = 0; i < count; i++)
            {
                DestinationDecision destination = decision.For((ConsentDestination)i);
                _decisions.Add(1,
                    new KeyValuePair<string, object?>("destination", destination.Name),
                    new KeyValuePair<string, object?>("outcome", ConsentNames.Of(destination.Outcome)));
            }
        }

        if (_malformed.Enabled)
        {
            ConsentSignals signals = decision.Signals;
            CountMalformed(signals.Gcs, "gcs");
            CountMalformed(signals.Gcd, "gcd");
            CountMalformed(signals.NpaPresence, "npa");
            CountMalformed(signals.DmaPresence, "dma");
            CountMalformed(signals.GdprPresence, "gdpr");
            CountMalformed(signals.TcfConsent, "gdpr_consent");
            CountMalformed(signals.Gpp, "gpp");
            CountMalformed(signals.GppSectionIds, "gpp_sid");
        }
    }

    public void LogWritten(int count) => _logWritten.Add(count);

    public void LogDropped() => _logDropped.Add(1);

    private void CountMalformed(SignalPresence presence, string parameter)
    {
        if (presence == SignalPresence.Malformed)
        {
            _malformed.Add(1, new KeyValuePair<string, object?>("parameter", parameter));
        }
    }
}
