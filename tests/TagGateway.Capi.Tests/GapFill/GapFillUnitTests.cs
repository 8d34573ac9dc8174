using TagGateway.Capi.Configuration;
using TagGateway.Capi.Delivery.GoogleAnalytics;
using TagGateway.Capi.GapFill;
using TagGateway.Capi.Mapping;
using TagGateway.Capi.Model;

namespace TagGateway.Capi.Tests.GapFill;

public sealed class GapFillUnitTests
{
    [Theory]
    [InlineData("GA1.1.111.222", "111.222")]
    [InlineData("GA1.2.1234567890.1700000000", "1234567890.1700000000")]
    [InlineData("1234567890.1700000000", "1234567890.1700000000")]
    [InlineData("GA1.1", null)]
    [InlineData("GA1.1.abc.222", null)]
    [InlineData("not-a-cookie", null)]
    public void The_ga_cookie_gives_gtags_client_id(string cookie, string? expected) =>
        Assert.Equal(expected, GaClientIds.FromGaCookie(cookie));

    [Fact]
    public void Client_id_wins_then_the_ga_cookie_then_FPID()
    {
        Assert.Equal("1.2", GaClientIds.Resolve("1.2", "GA1.1.3.4", "FPID-x"));
        Assert.Equal("3.4", GaClientIds.Resolve(null, "GA1.1.3.4", "FPID-x"));
        Assert.Equal("FPID-x", GaClientIds.Resolve(null, "garbage", "FPID-x"));
        Assert.Null(GaClientIds.Resolve(null, null, null));
    }

    [Fact]
    public void A_batch_is_split_by_user_and_instant_and_never_over_25_events_a_request()
    {
        var batch = new List<CapiEvent>();
        for (var i = 0; i < 30; i++)
        {
            batch.Add(new CapiEvent { Seq = i, Name = "purchase", GaClientId = "1.1", TimeMs = 1000 });
        }

        batch.Add(new CapiEvent { Seq = 30, Name = "purchase", GaClientId = "2.2", TimeMs = 1000 });
        batch.Add(new CapiEvent { Seq = 31, Name = "purchase", GaClientId = "1.1", TimeMs = 2000 });

        var groups = GoogleAnalyticsClient.Group(batch);
        Assert.Equal([25, 5, 1, 1], groups.Select(static g => g.Count));
        Assert.All(groups, g => Assert.Single(g.Select(i => (batch[i].GaClientId, batch[i].TimeMs)).Distinct()));
    }

    [Fact]
    public void Only_configured_conversions_and_only_the_sites_own_ids_make_browser_marks()
    {
        var map = new EventNameMap(new CapiOptions());
        var gate = new GapFillGate(enabled: true, map.Names(CapiDestination.GoogleAnalytics), metrics: null, Microsoft.Extensions.Logging.Abstractions.NullLogger<GapFillGate>.Instance);
        Span<UInt128> browser = stackalloc UInt128[GapFillGate.MaxKeys];
        Span<UInt128> server = stackalloc UInt128[GapFillGate.MaxKeys];

        Assert.Equal(0, gate.BrowserKeys(new DecodedEvent { Name = "page_view", EventId = "e-1" }, browser, server));
        Assert.Equal(1, gate.BrowserKeys(new DecodedEvent { Name = "purchase", EventId = "T-1", TransactionId = "T-1" }, browser, server));
        Assert.Equal(1, gate.BrowserKeys(new DecodedEvent { Name = "generate_lead", EventId = "tg.0123456789abcdef01234567", TransactionId = "L-1" }, browser, server));
        Assert.Equal(2, gate.BrowserKeys(new DecodedEvent { Name = "purchase", EventId = "evt-9", TransactionId = "T-9" }, browser, server));

        // The backend's purchase T-9 (event id evt-9) looks up exactly the marks the browser's hit left.
        UInt128 b0 = browser[0], b1 = browser[1];
        Assert.Equal(2, GapFillGate.ServerKeys(new CapiEvent { Name = "purchase", EventId = "evt-9", TransactionId = "T-9" }, browser, server));
        Assert.Equal(b0, browser[0]);
        Assert.Equal(b1, browser[1]);
        Assert.NotEqual(browser[0], server[0]);

        // A refund of the same transaction is another event.
        GapFillGate.ServerKeys(new CapiEvent { Name = "refund", EventId = "T-9", TransactionId = "T-9" }, browser, server);
        Assert.NotEqual(b0, browser[0]);
    }

    [Fact]
    public void Google_Analytics_without_an_api_secret_or_with_a_bad_window_fails_validation()
    {
        var options = new CapiOptions();
        options.GoogleAnalytics.MeasurementId = "G-TEST1234";
        options.GoogleAnalytics.GapFillWindow = TimeSpan.FromHours(2);
        var result = new CapiOptionsCrossFieldValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, static f => f.Contains("Capi:GoogleAnalytics: an API secret is required", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, static f => f.Contains("Capi:GoogleAnalytics:GapFillWindow", StringComparison.Ordinal));

        options.GoogleAnalytics.ApiSecret = "secret";
        options.GoogleAnalytics.GapFillWindow = TimeSpan.FromMinutes(2);
        Assert.DoesNotContain(new CapiOptionsCrossFieldValidator().Validate(null, options).Failures ?? [], static f => f.Contains("GoogleAnalytics", StringComparison.Ordinal));
    }
}
