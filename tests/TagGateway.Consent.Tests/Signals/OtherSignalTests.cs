using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Tests.Signals;

public class OtherSignalTests
{
    [Theory]
    [InlineData("npa=1", true, SignalPresence.WellFormed)]
    [InlineData("npa=0", false, SignalPresence.WellFormed)]
    [InlineData("npa=%31", true, SignalPresence.WellFormed)]
    [InlineData("npa=2", null, SignalPresence.Malformed)]
    [InlineData("npa=", null, SignalPresence.Malformed)]
    [InlineData("npa=11", null, SignalPresence.Malformed)]
    [InlineData("v=2", null, SignalPresence.Absent)]
    public void Npa(string query, bool? expected, SignalPresence presence)
    {
        var signals = ConsentSignals.FromQuery(query, false);

        Assert.Equal(expected, signals.NonPersonalizedAds);
        Assert.Equal(presence, signals.NpaPresence);
    }

    [Theory]
    [InlineData("dma=1", true)]
    [InlineData("dma=0", false)]
    [InlineData("dma=yes", null)]
    [InlineData("v=2", null)]
    public void Dma(string query, bool? expected)
    {
        Assert.Equal(expected, ConsentSignals.FromQuery(query, false).DmaApplies);
    }

    [Fact]
    public void Dma_purposes_and_consent_update_are_recorded_as_present()
    {
        var signals = ConsentSignals.FromQuery("dma=1&dma_cps=syphlamo&gcut=2", false);

        Assert.True(signals.HasDmaPurposes);
        Assert.True(signals.ConsentUpdated);
        Assert.False(ConsentSignals.FromQuery("dma_cps=", false).HasDmaPurposes);
        Assert.True(ConsentSignals.FromQuery("gcu=1", false).ConsentUpdated);
        Assert.False(ConsentSignals.FromQuery("v=2", false).ConsentUpdated);
    }

    [Theory]
    [InlineData("gdpr=1&gdpr_consent=CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA", true, SignalPresence.WellFormed)]
    [InlineData("gdpr=1&gdpr_consent=CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA.YAAAAAAAAAAA", true, SignalPresence.WellFormed)]
    [InlineData("gdpr=0&gdpr_consent=CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA%2EYAAAAAAAAAAA", false, SignalPresence.WellFormed)]
    [InlineData("gdpr=1&gdpr_consent=${GDPR_CONSENT_755}", true, SignalPresence.Malformed)]
    [InlineData("gdpr=1&gdpr_consent=CPXx..YAAA", true, SignalPresence.Malformed)]
    [InlineData("gdpr=1&gdpr_consent=.CPXx", true, SignalPresence.Malformed)]
    [InlineData("gdpr=1&gdpr_consent=CPXx.", true, SignalPresence.Malformed)]
    [InlineData("gdpr=1&gdpr_consent=CPXx%3D", true, SignalPresence.Malformed)]
    [InlineData("gdpr=1&gdpr_consent=", true, SignalPresence.Malformed)]
    [InlineData("gdpr=1", true, SignalPresence.Absent)]
    public void Tcf(string query, bool? gdprApplies, SignalPresence consent)
    {
        var signals = ConsentSignals.FromQuery(query, false);

        Assert.Equal(gdprApplies, signals.GdprApplies);
        Assert.Equal(consent, signals.TcfConsent);
    }

    [Theory]
    [InlineData(600, SignalPresence.WellFormed)]    // beyond the stack buffer: decoded in a pooled one
    [InlineData(9000, SignalPresence.WellFormed)]
    [InlineData(17000, SignalPresence.Malformed)]   // longer than any URL could carry
    public void Long_tc_strings(int length, SignalPresence expected)
    {
        var tc = "C" + new string('P', length / 2) + "." + new string('Y', length - (length / 2) - 2);
        Assert.Equal(length, tc.Length);

        Assert.Equal(expected, ConsentSignals.FromQuery("gdpr=1&gdpr_consent=" + tc, false).TcfConsent);
        Assert.Equal(SignalPresence.Malformed, ConsentSignals.FromQuery("gdpr_consent=" + tc + "..", false).TcfConsent);
    }

    [Theory]
    [InlineData("gpp=DBABMA~CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA", SignalPresence.WellFormed)]
    [InlineData("gpp=DBABBg~BVQqAAAAAgA.QA", SignalPresence.WellFormed)]
    [InlineData("gpp=DBABMA%7ECPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA", SignalPresence.WellFormed)]
    [InlineData("gpp=DBABMA", SignalPresence.WellFormed)]
    [InlineData("gpp=CBABMA~CPXx", SignalPresence.Malformed)]
    [InlineData("gpp=DBABMA~~CPXx", SignalPresence.Malformed)]
    [InlineData("gpp=DBABMA~", SignalPresence.Malformed)]
    [InlineData("gpp=DBA!MA", SignalPresence.Malformed)]
    [InlineData("gpp=", SignalPresence.Malformed)]
    [InlineData("v=2", SignalPresence.Absent)]
    public void Gpp(string query, SignalPresence expected)
    {
        Assert.Equal(expected, ConsentSignals.FromQuery(query, false).Gpp);
    }

    [Theory]
    [InlineData("gpp_sid=2", SignalPresence.WellFormed)]
    [InlineData("gpp_sid=2,6", SignalPresence.WellFormed)]
    [InlineData("gpp_sid=2%2C6", SignalPresence.WellFormed)]
    [InlineData("gpp_sid=7_8", SignalPresence.WellFormed)]
    [InlineData("gpp_sid=-1", SignalPresence.WellFormed)]
    [InlineData("gpp_sid=", SignalPresence.Malformed)]
    [InlineData("gpp_sid=a", SignalPresence.Malformed)]
    [InlineData("gpp_sid=2,,6", SignalPresence.Malformed)]
    [InlineData("gpp_sid=2,", SignalPresence.Malformed)]
    [InlineData("gpp_sid=123456", SignalPresence.Malformed)]
    [InlineData("gpp_sid=${GPP_SID}", SignalPresence.Malformed)]
    public void Gpp_section_ids(string query, SignalPresence expected)
    {
        Assert.Equal(expected, ConsentSignals.FromQuery(query, false).GppSectionIds);
    }

    [Theory]
    [InlineData("1", true)]
    [InlineData(" 1 ", true)]
    [InlineData("0", false)]
    [InlineData("", false)]
    [InlineData("true", false)]
    [InlineData("11", false)]
    public void Sec_gpc_header(string value, bool expected)
    {
        Assert.Equal(expected, ConsentSignals.IsGlobalPrivacyControl(value));
    }

    [Fact]
    public void Gpc_flag_is_carried_and_survives_body_overrides()
    {
        var signals = ConsentSignals.FromQuery("gcs=G111", globalPrivacyControl: true);

        Assert.True(signals.GlobalPrivacyControl);
        Assert.True(signals.WithOverrides("en=purchase&gcs=G100").GlobalPrivacyControl);
        Assert.False(ConsentSignals.FromQuery("gcs=G111", globalPrivacyControl: false).GlobalPrivacyControl);
    }
}
