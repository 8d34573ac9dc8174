using System.Text;
using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Tests.Signals;

public class BatchedBodyTests
{
    private const string Url = "v=2&tid=G-TEST&cid=123.456&gcs=G111&gcd=13v3v3v3v5&npa=0";

    // Line 1 inherits the URL; line 2 denies everything; line 3 only changes gcs; a blank line between is skipped.
    private const string Body = "en=page_view&_et=12\r\nen=purchase&gcs=G100&gcd=13q3q3q3q5\r\n\r\n  \nen=scroll&gcs=G110\n";

    [Fact]
    public void Each_line_merges_its_own_consent_over_the_url()
    {
        var url = ConsentSignals.FromQuery(Url, false);
        var lines = new List<ConsentSignals>();
        foreach (var line in HitBody.EnumerateLines(Body))
        {
            lines.Add(url.WithOverrides(line));
        }

        Assert.Equal(3, lines.Count);

        // Line 1: the URL's all-granted consent.
        Assert.Equal(url, lines[0]);
        Assert.Equal(ConsentState.Granted, lines[0].AdStorage.GcdEffective);

        // Line 2: both gcs and gcd replaced.
        Assert.Equal(ConsentState.Denied, lines[1].AdStorage.Gcs);
        Assert.Equal(ConsentState.Denied, lines[1].AdPersonalization.Update);
        Assert.Equal(ConsentState.Denied, lines[1].AdPersonalization.Default);

        // Line 3: gcs replaced, the URL's gcd kept.
        Assert.Equal(ConsentState.Granted, lines[2].AdStorage.Gcs);
        Assert.Equal(ConsentState.Denied, lines[2].AnalyticsStorage.Gcs);
        Assert.Equal(ConsentState.Granted, lines[2].AnalyticsStorage.Update);
        Assert.False(lines[2].NonPersonalizedAds);

        // The URL's signals are a value: overriding never changes them.
        Assert.Equal(ConsentState.Granted, url.AdStorage.Gcs);
    }

    [Fact]
    public void Utf8_body_gives_the_same_events_as_text()
    {
        var url = ConsentSignals.FromQuery(Encoding.UTF8.GetBytes(Url), false);
        var fromText = new List<ConsentSignals>();
        foreach (var line in HitBody.EnumerateLines(Body))
        {
            fromText.Add(url.WithOverrides(line));
        }

        var fromBytes = new List<ConsentSignals>();
        foreach (var line in HitBody.EnumerateLines(Encoding.UTF8.GetBytes(Body)))
        {
            fromBytes.Add(url.WithOverrides(line));
        }

        Assert.Equal(fromText, fromBytes);
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("\r\n\r\n", 0)]
    [InlineData("en=a", 1)]
    [InlineData("en=a\r\n", 1)]
    [InlineData("en=a\nen=b", 2)]
    [InlineData("en=a\r\nen=b\r\nen=c", 3)]
    [InlineData("\n\nen=a\n\n\nen=b\n", 2)]
    public void Lines_are_counted_ignoring_blanks(string body, int expected)
    {
        var count = 0;
        foreach (var line in HitBody.EnumerateLines(body))
        {
            Assert.False(line.IsEmpty);
            Assert.DoesNotContain('\r', line.ToString());
            count++;
        }

        Assert.Equal(expected, count);
    }

    [Fact]
    public void A_malformed_line_value_replaces_a_good_url_value()
    {
        var url = ConsentSignals.FromQuery("gcs=G111", false);
        var line = url.WithOverrides("gcs=G1x1");

        Assert.Equal(SignalPresence.Malformed, line.Gcs);
        Assert.Equal(ConsentState.Unknown, line.AdStorage.Gcs);
    }
}
