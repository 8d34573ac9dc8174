using TagGateway.Cookies.Rules;

namespace TagGateway.Cookies.Tests;

public sealed class CookieFormatTests
{
    [Theory]
    [InlineData(CookieFormat.GoogleAnalyticsClient, "GA1.1.1162820436.1749482504", true)]
    [InlineData(CookieFormat.GoogleAnalyticsClient, "GA1.2.1162820436.1749482504", true)]
    [InlineData(CookieFormat.GoogleAnalyticsClient, "GA1.1.abc.1749482504", false)]
    [InlineData(CookieFormat.GoogleAnalyticsClient, "GA1.1.1162820436", false)]
    [InlineData(CookieFormat.GoogleAnalyticsSession, "GS1.1.1746825440.14.0.17468254406.0.0.295082955", true)]
    [InlineData(CookieFormat.GoogleAnalyticsSession, "GS2.1.s1747132561$o1$g0$t1747132655$j0$l0$h0", true)]
    [InlineData(CookieFormat.GoogleAnalyticsSession, "GS3.1.x", false)]
    [InlineData(CookieFormat.GoogleClick, "GCL.1641466031.Cj0KCQiAw9qOBhC-ARIsAG-rdn7_wcB", true)]
    [InlineData(CookieFormat.GoogleClick, "GCL.1641466031", false)]
    [InlineData(CookieFormat.GoogleAdsUser, "1.1.1406894807.1642973586", true)]
    [InlineData(CookieFormat.MetaBrowser, "fb.1.1642973591141.184636131", true)]
    [InlineData(CookieFormat.MetaBrowser, "fb.1.1785220357226.647220892511102692", true)]
    [InlineData(CookieFormat.MetaBrowser, "fb.1.1642973591141", false)]
    [InlineData(CookieFormat.MetaClick, "fb.1.1554763741205.IwAR2F4-dbP0l7Mn1IawQQGCINEz7PYXQvwjNwB_qa2ofrHyiLjcbCRxTDMgk", true)]
    [InlineData(CookieFormat.MetaClick, "fb.1.1554763741205.AbCdEfGhIjKlMnOpQrStUvWxYz1234567890.ABcDEFGh", true)]
    [InlineData(CookieFormat.Opaque, "01KKAQSNJYHEXW22PHRM0RV1TA_.tt.2", true)]
    [InlineData(CookieFormat.Token, "85929337-d448-42da-a095-0b3c5500fa50", true)]
    public void Known_shapes(CookieFormat format, string value, bool valid) => Assert.Equal(valid, CookieFormats.IsValid(format, value));

    [Theory]
    [InlineData("GA1.1.1.2; Domain=evil.com")]
    [InlineData("GA1.1.1.2\r\nSet-Cookie: x=1")]
    [InlineData("GA1.1.1.2\n")]
    [InlineData("GA1.1.1.2,x=1")]
    [InlineData("GA1.1.1 .2")]
    [InlineData("\"GA1.1.1.2\"")]
    [InlineData("GA1.1.1.2\\")]
    [InlineData("GA1.1.1.2\u0001")]
    [InlineData("GA1.1.1.\u00e92")]
    [InlineData("")]
    public void Anything_that_could_inject_is_refused_whatever_the_format(string value)
    {
        foreach (var format in Enum.GetValues<CookieFormat>())
        {
            Assert.False(CookieFormats.IsValid(format, value), $"{format} accepted {value}");
        }
    }

    [Fact]
    public void Oversized_values_are_refused() =>
        Assert.False(CookieFormats.IsValid(CookieFormat.Opaque, new string('a', CookieFormats.MaxValueLength + 1)));
}
