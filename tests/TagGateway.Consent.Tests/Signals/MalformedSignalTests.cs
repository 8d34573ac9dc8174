using System.Text;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Tests.Signals;

public class MalformedSignalTests
{
    public static TheoryData<string> MalformedGcs => new()
    {
        "",
        "1",
        "13",
        "G1",
        "G12",
        "G1x1",
        "G1000",
        "g111",
        "G211",
        "G1 1",
        "G1+1",
        "G1\u00e91",      // non-ASCII
        "G1%C3%A91",      // percent-encoded non-ASCII
        "G1%",            // truncated escape
        "G1%3",
        "G1%zz1",
        "G11%00",
        "%47%31%31",      // decodes to G11: truncated
        "G111%31",        // decodes to G1111: too long
    };

    public static TheoryData<string> MalformedGcd => new()
    {
        "",
        "1",
        "13",
        "13l",
        "13r3r3r3r",      // truncated before the trailing digit
        "23r3r3r3r5",     // must start with 1
        "13r3r3r3rX",     // odd positions are digits
        "1xr3r3r3r5",
        "13r3r3r3r5!",
        "13\u00e93r3r3r5",
        "13%C3%A93r3r3r5",
        "13r3r3r3r5%",
        "13r3r3r3r5%2",
        "13r3r3r3r5%GG",
        "13 3r3r3r5",
        "13v3v3v3v5" + "1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1v1", // longer than any real gcd
    };

    [Theory]
    [MemberData(nameof(MalformedGcs))]
    public void Malformed_gcs_decodes_as_unknown_and_is_flagged(string gcs)
    {
        var signals = ConsentSignals.FromQuery("gcs=" + gcs, false);

        Assert.Equal(SignalPresence.Malformed, signals.Gcs);
        Assert.Equal(ConsentState.Unknown, signals.AdStorage.Gcs);
        Assert.Equal(ConsentState.Unknown, signals.AnalyticsStorage.Gcs);
        Assert.True(signals.AdStorage.GcsUnreadable);
        Assert.True(signals.AnalyticsStorage.GcsUnreadable);
    }

    [Theory]
    [MemberData(nameof(MalformedGcd))]
    public void Malformed_gcd_decodes_as_unknown_for_every_type(string gcd)
    {
        var signals = ConsentSignals.FromQuery("gcd=" + gcd, false);

        Assert.Equal(SignalPresence.Malformed, signals.Gcd);
        for (var type = 0; type < 4; type++)
        {
            var signal = signals.Get((ConsentType)type);
            Assert.Equal(ConsentState.Unknown, signal.Default);
            Assert.Equal(ConsentState.Unknown, signal.Update);
            Assert.True(signal.GcdUnreadable);
        }
    }

    [Theory]
    [MemberData(nameof(MalformedGcs))]
    public void Malformed_gcs_is_never_granted_even_where_the_region_default_is(string gcs)
    {
        // In the US the region default grants everything; an unreadable gcs must still fail closed.
        var decision = TestPolicies.Decide("gcs=" + gcs, region: "US");

        Assert.Equal(new ConsentResolution(ConsentState.Denied, ConsentSource.Unreadable), decision.Consent.Get(ConsentType.AdStorage));
        Assert.Equal(new ConsentResolution(ConsentState.Denied, ConsentSource.Unreadable), decision.Consent.Get(ConsentType.AnalyticsStorage));
        Assert.False(decision.For(ConsentDestination.Meta).MaySend);
        Assert.False(decision.For(ConsentDestination.GoogleAnalytics).MayUseIdentifiers);
    }

    [Theory]
    [MemberData(nameof(MalformedGcd))]
    public void Malformed_gcd_outranks_a_valid_gcs_and_fails_closed(string gcd)
    {
        var decision = TestPolicies.Decide("gcs=G111&gcd=" + gcd, region: "US");

        for (var type = 0; type < 4; type++)
        {
            Assert.Equal(new ConsentResolution(ConsentState.Denied, ConsentSource.Unreadable), decision.Consent.Get((ConsentType)type));
        }
    }

    [Fact]
    public void Arbitrary_garbage_never_throws_and_never_grants()
    {
        var random = new Random(1234);
        string[] names = ["gcs", "gcd", "npa", "dma", "gdpr", "gdpr_consent", "gpp", "gpp_sid", "dma_cps", "gcu", "g%63d"];
        const string Alphabet = "G1013lmnpqrtuvf%&=+?#~.,_-aZ\u00e9\u0000\r\n ";
        for (var i = 0; i < 20_000; i++)
        {
            var builder = new StringBuilder();
            var pairs = random.Next(1, 4);
            for (var p = 0; p < pairs; p++)
            {
                builder.Append(names[random.Next(names.Length)]).Append('=');
                var length = random.Next(0, 14);
                for (var k = 0; k < length; k++)
                {
                    builder.Append(Alphabet[random.Next(Alphabet.Length)]);
                }

                builder.Append('&');
            }

            var query = builder.ToString();
            var signals = ConsentSignals.FromQuery(query, false);
            var fromBytes = ConsentSignals.FromQuery(Encoding.UTF8.GetBytes(query), false);
            Assert.Equal(signals, fromBytes);

            for (var type = 0; type < 4; type++)
            {
                var signal = signals.Get((ConsentType)type);

                // Granted can only come from a well-formed string.
                if (signal.Gcs == ConsentState.Granted)
                {
                    Assert.Equal(SignalPresence.WellFormed, signals.Gcs);
                }

                if (signal.Default == ConsentState.Granted || signal.Update == ConsentState.Granted)
                {
                    Assert.Equal(SignalPresence.WellFormed, signals.Gcd);
                }
            }
        }
    }
}
