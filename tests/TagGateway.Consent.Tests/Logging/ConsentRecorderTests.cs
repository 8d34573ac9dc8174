using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using TagGateway.Consent.Logging;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Tests.Logging;

public class ConsentRecorderTests
{
    private static readonly ConsentDecision Decision = TestPolicies.Decide("gcs=G111&gcd=13r3r3r3r5", "DE");

    private static void RecordMany(LoggingTestHost host, int count)
    {
        for (var i = 0; i < count; i++)
        {
            host.Recorder.Record(Decision, new ConsentContext("G-TEST", "123456789.1712345678", "DE", "page_view"));
        }
    }

    [Fact]
    public void Sample_rate_one_logs_everything_and_zero_logs_nothing()
    {
        using var all = new LoggingTestHost(o => o.SampleRate = 1);
        using var none = new LoggingTestHost(o => o.SampleRate = 0);
        RecordMany(all, 200);
        RecordMany(none, 200);

        Assert.Equal(200, all.DrainQueue().Count);
        Assert.Empty(none.DrainQueue());
    }

    [Fact]
    public void Sample_rate_is_honoured()
    {
        using var host = new LoggingTestHost(o => o.SampleRate = 0.25, queueCapacity: 10_000);
        RecordMany(host, 8000);

        var logged = host.DrainQueue().Count;

        // Binomial(8000, 0.25): mean 2000, sd ≈ 39; ±300 is over 7 sd.
        Assert.InRange(logged, 1700, 2300);
    }

    [Fact]
    public void Mode_none_logs_nothing_but_still_counts()
    {
        using var host = new LoggingTestHost(o => o.Mode = TagGateway.Consent.Configuration.ConsentLogMode.None);
        using var decisions = new MetricCollector<long>(host.MeterFactory, ConsentMetrics.MeterName, "taggateway.consent.decisions");
        RecordMany(host, 3);

        Assert.Empty(host.DrainQueue());
        decisions.RecordObservableInstruments();
        Assert.Equal(3 * Decision.DestinationCount, decisions.GetMeasurementSnapshot().Sum(static m => m.Value));
    }

    [Fact]
    public void Full_queue_drops_and_counts_without_blocking()
    {
        using var host = new LoggingTestHost(queueCapacity: 16);
        using var dropped = new MetricCollector<long>(host.MeterFactory, ConsentMetrics.MeterName, "taggateway.consent.log.dropped");
        RecordMany(host, 100);

        Assert.Equal(84, dropped.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(84, host.Queue.TakeDroppedCount());
        Assert.Equal(0, host.Queue.TakeDroppedCount());
        Assert.Equal(16, host.DrainQueue().Count);
    }

    [Fact]
    public void Decisions_are_counted_by_destination_and_outcome()
    {
        using var host = new LoggingTestHost();
        using var decisions = new MetricCollector<long>(host.MeterFactory, ConsentMetrics.MeterName, "taggateway.consent.decisions");
        var denied = TestPolicies.Decide("v=2", "DE");
        host.Recorder.Record(denied, new ConsentContext("G-TEST", "1.2"));
        host.Recorder.Record(denied, new ConsentContext("G-TEST", "1.3"));

        decisions.RecordObservableInstruments();
        var measurements = decisions.GetMeasurementSnapshot();
        Assert.Equal(5, measurements.Count);
        Assert.All(measurements, static m => Assert.Equal(2, m.Value));
        Assert.Contains(measurements, m => m.Tags["destination"] as string == "Meta" && m.Tags["outcome"] as string == "blocked");
        Assert.Contains(measurements, m => m.Tags["destination"] as string == "GoogleAnalytics" && m.Tags["outcome"] as string == "cookieless");
    }

    [Fact]
    public void Malformed_signals_are_counted_by_parameter()
    {
        using var host = new LoggingTestHost();
        using var malformed = new MetricCollector<long>(host.MeterFactory, ConsentMetrics.MeterName, "taggateway.consent.signals.malformed");
        host.Recorder.Record(TestPolicies.Decide("gcs=G1x1&gcd=13&gpp=x", "US"), new ConsentContext("G-TEST", "1.2"));

        var parameters = malformed.GetMeasurementSnapshot().Select(m => (string)m.Tags["parameter"]!).Order().ToArray();
        Assert.Equal(["gcd", "gcs", "gpp"], parameters);
    }

    [Fact]
    public void Undocumented_gcd_letters_are_counted_by_letter_and_type()
    {
        using var host = new LoggingTestHost();
        using var letters = new MetricCollector<long>(host.MeterFactory, ConsentMetrics.MeterName, "taggateway.consent.gcd.unknown_letters");
        host.Recorder.Record(TestPolicies.Decide("gcd=13l3l3R3l5l1&gcs=G1--", "US-CA"), new ConsentContext("G-TEST", "1.2"));
        host.Recorder.Record(TestPolicies.Decide("gcd=13-3v3R3_5", "US-CA"), new ConsentContext("G-TEST", "1.2"));
        host.Recorder.Record(TestPolicies.Decide("gcd=13v3v3v3v5", "US-CA"), new ConsentContext("G-TEST", "1.2"));

        var counted = letters.GetMeasurementSnapshot().Select(m => $"{m.Tags["letter"]}:{m.Tags["type"]}={m.Value}").Order().ToArray();
        Assert.Equal(["R:ad_user_data=1", "R:ad_user_data=1", "other:ad_personalization=1", "other:ad_storage=1"], counted);
    }

    [Fact]
    public void Entry_holds_the_clock_time_and_only_a_hash_of_the_client_id()
    {
        using var host = new LoggingTestHost();
        host.Recorder.Record(Decision, new ConsentContext("G-TEST", "123456789.1712345678", "DE", "purchase"));

        var entry = Assert.Single(host.DrainQueue());
        Assert.Equal(host.Time.GetUtcNow(), entry.Time);
        Assert.Equal("G-TEST", entry.TagId);
        Assert.Equal("purchase", entry.EventName);
        Assert.NotNull(entry.ClientHash);
        Assert.Equal(32, entry.ClientHash!.Length);
        Assert.DoesNotContain("123456789", entry.ClientHash);

        // Same id, same salt → same hash (joins one client's lines); another salt → another hash.
        Assert.Equal(entry.ClientHash, ClientIdHasher.Hash("test-salt-0123456789"u8, "123456789.1712345678"));
        Assert.NotEqual(entry.ClientHash, ClientIdHasher.Hash("another-salt-0123456"u8, "123456789.1712345678"));
    }

    [Fact]
    public void Oversized_fields_are_truncated()
    {
        using var host = new LoggingTestHost();
        host.Recorder.Record(Decision, new ConsentContext(new string('T', 500), "1.2", new string('R', 500), new string('E', 500)));

        var entry = Assert.Single(host.DrainQueue());
        Assert.Equal(64, entry.TagId!.Length);
        Assert.Equal(64, entry.Region!.Length);
        Assert.Equal(64, entry.EventName!.Length);
    }
}
