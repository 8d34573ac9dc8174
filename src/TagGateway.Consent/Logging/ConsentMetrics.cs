using System.Diagnostics.Metrics;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Logging;

/// <summary>Consent counters on the "TagGateway.Consent" meter, created through IMeterFactory so tests and hosts own their meters.</summary>
internal sealed class ConsentMetrics
{
    public const string MeterName = "TagGateway.Consent";

    private const int OutcomeCount = (int)ConsentOutcome.Full + 1;
    private const int MaxDestinations = 16;

    // Decisions are counted in a plain array and read when metrics are collected: a GA4 hit of three events makes
    // fifteen decisions, and a Counter.Add each (through every listener) cost more than the decisions themselves.
    private readonly long[] _decisionCounts = new long[MaxDestinations * OutcomeCount];
    private readonly string?[] _destinationNames = new string?[MaxDestinations];
    private readonly Counter<long> _malformed;
    private readonly Counter<long> _unknownGcdLetters;
    private readonly Counter<long> _logWritten;
    private readonly Counter<long> _logDropped;

    public ConsentMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableCounter("taggateway.consent.decisions", ObserveDecisions, "{decision}", "Per-destination consent decisions, by destination and outcome.");
        _malformed = meter.CreateCounter<long>("taggateway.consent.signals.malformed", "{signal}", "Consent parameters present but unreadable, by parameter.");
        _unknownGcdLetters = meter.CreateCounter<long>("taggateway.consent.gcd.unknown_letters", "{letter}", "gcd letters outside the nine documented ones (read as not set), by letter.");
        _logWritten = meter.CreateCounter<long>("taggateway.consent.log.written", "{entry}", "Consent audit-log entries written.");
        _logDropped = meter.CreateCounter<long>("taggateway.consent.log.dropped", "{entry}", "Consent audit-log entries dropped because the queue was full.");
    }

    public void RecordDecision(in ConsentDecision decision)
    {
        var count = Math.Min(decision.DestinationCount, MaxDestinations);
        for (var i = 0; i < count; i++)
        {
            var destination = decision.For((ConsentDestination)i);
            _destinationNames[i] ??= destination.Name;
            Interlocked.Increment(ref _decisionCounts[(i * OutcomeCount) + (int)destination.Outcome]);
        }

        if (_malformed.Enabled)
        {
            var signals = decision.Signals;
            CountMalformed(signals.Gcs, "gcs");
            CountMalformed(signals.Gcd, "gcd");
            CountMalformed(signals.NpaPresence, "npa");
            CountMalformed(signals.DmaPresence, "dma");
            CountMalformed(signals.GdprPresence, "gdpr");
            CountMalformed(signals.TcfConsent, "gdpr_consent");
            CountMalformed(signals.Gpp, "gpp");
            CountMalformed(signals.GppSectionIds, "gpp_sid");
        }

        if (_unknownGcdLetters.Enabled && decision.Signals.HasUnknownGcdLetter)
        {
            var signals = decision.Signals;
            foreach (var type in ConsentNames.Types)
            {
                var letter = signals.Get(type).UnknownGcdLetter;
                if (letter != '\0')
                {
                    _unknownGcdLetters.Add(1,
                        new KeyValuePair<string, object?>("letter", ConsentNames.OfGcdLetter(letter)),
                        new KeyValuePair<string, object?>("type", ConsentNames.Of(type)));
                }
            }
        }
    }

    public void LogWritten(int count) => _logWritten.Add(count);

    private IEnumerable<Measurement<long>> ObserveDecisions()
    {
        for (var i = 0; i < MaxDestinations; i++)
        {
            for (var outcome = 0; outcome < OutcomeCount; outcome++)
            {
                var value = Volatile.Read(ref _decisionCounts[(i * OutcomeCount) + outcome]);
                if (value > 0)
                {
                    yield return new Measurement<long>(value,
                        new KeyValuePair<string, object?>("destination", _destinationNames[i]),
                        new KeyValuePair<string, object?>("outcome", ConsentNames.Of((ConsentOutcome)outcome)));
                }
            }
        }
    }

    public void LogDropped() => _logDropped.Add(1);

    private void CountMalformed(SignalPresence presence, string parameter)
    {
        if (presence == SignalPresence.Malformed)
        {
            _malformed.Add(1, new KeyValuePair<string, object?>("parameter", parameter));
        }
    }
}
