using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Tests.Signals;

public class GcsDecodingTests
{
    [Theory]
    [InlineData("G100", ConsentState.Denied, ConsentState.Denied)]
    [InlineData("G101", ConsentState.Denied, ConsentState.Granted)]
    [InlineData("G110", ConsentState.Granted, ConsentState.Denied)]
    [InlineData("G111", ConsentState.Granted, ConsentState.Granted)]
    [InlineData("G1--", ConsentState.Unknown, ConsentState.Unknown)]
    [InlineData("G1%31%31", ConsentState.Granted, ConsentState.Granted)] // percent-encoded digits are still G111
    public void Reference_values_decode(string gcs, ConsentState adStorage, ConsentState analyticsStorage)
    {
        var signals = ConsentSignals.FromQuery($"v=2&tid=G-TEST&gcs={gcs}&en=page_view", false);

        Assert.Equal(SignalPresence.WellFormed, signals.Gcs);
        Assert.Equal(adStorage, signals.AdStorage.Gcs);
        Assert.Equal(analyticsStorage, signals.AnalyticsStorage.Gcs);
        Assert.False(signals.AdStorage.GcsUnreadable);

        // gcs carries only the storage types.
        Assert.Equal(ConsentState.Unknown, signals.AdUserData.Gcs);
        Assert.Equal(ConsentState.Unknown, signals.AdPersonalization.Gcs);
    }

    [Fact]
    public void Leading_question_mark_and_utf8_bytes_decode_the_same()
    {
        const string Query = "?v=2&gcs=G110&gcd=13r3m3t3p5&npa=1";
        var fromChars = ConsentSignals.FromQuery(Query, false);
        var fromBytes = ConsentSignals.FromQuery(System.Text.Encoding.UTF8.GetBytes(Query), false);

        Assert.Equal(ConsentState.Granted, fromChars.AdStorage.Gcs);
        Assert.Equal(fromChars, fromBytes);
    }

    [Fact]
    public void Percent_encoded_parameter_name_is_recognised()
    {
        var signals = ConsentSignals.FromQuery("g%63s=G101", false);

        Assert.Equal(ConsentState.Granted, signals.AnalyticsStorage.Gcs);
    }

    [Fact]
    public void Last_occurrence_wins_within_one_query()
    {
        var signals = ConsentSignals.FromQuery("gcs=G111&gcs=G100", false);

        Assert.Equal(ConsentState.Denied, signals.AdStorage.Gcs);
    }

    [Fact]
    public void No_signals_means_everything_absent()
    {
        var signals = ConsentSignals.FromQuery("v=2&tid=G-TEST&cid=123.456&en=page_view", false);

        Assert.Equal(SignalPresence.Absent, signals.Gcs);
        Assert.Equal(SignalPresence.Absent, signals.Gcd);
        Assert.False(signals.HasConsentModeSignal);
        Assert.Equal(default, signals);
    }
}
