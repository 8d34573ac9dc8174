using System.Net;
using System.Text.Json;

namespace TagGateway.Capi.Tests.GapFill;

/// <summary>
/// Issue #13 against the real host and a fake Measurement Protocol endpoint that validates the payload as Google
/// documents it: a backend conversion reaches GA only when the browser's own hit did not, once.
/// </summary>
public sealed class GoogleAnalyticsGapFillTests() : CapiFakesTest(measurementProtocol: true)
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(2);

    private Task<CapiGateway> StartAsync(bool tiktok = false, TimeSpan? window = null)
    {
        var settings = Fake.CapiSettings(Store.Path, meta: false, tiktok: tiktok, linkedIn: false, google: false);
        foreach ((var key, var value) in Mp.Settings(window ?? Window))
        {
            settings[key] = value;
        }

        return CapiGateway.StartAsync(Fake, settings);
    }

    internal static string Purchase(string transactionId, long? eventTime = null, string consent = """{"analytics_storage":"granted","ad_storage":"granted","ad_user_data":"granted","ad_personalization":"granted"}""", string region = "US-CA") =>
        $$"""
        {"events":[{"event_name":"purchase","event_id":"{{transactionId}}","transaction_id":"{{transactionId}}","event_time":{{eventTime ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds()}},
          "currency":"EUR","value":19.99,"items":[{"id":"SKU1","name":"Lamp","price":19.99,"quantity":1}],
          "page_url":"https://shop.example/thanks","ga_cookie":"GA1.1.111.222","session_id":"1700000000","user_id":"u-42",
          "user":{"email":"Jane.Doe@Example.com","phone":"+14155550123","first_name":"Jane","last_name":"Doe","city":"San Francisco","zip":"94105","country":"US","user_agent":"UA"},
          "consent":{{consent}},"region":"{{region}}"}]}
        """;

    internal static string BrowserHit(string transactionId) =>
        $"v=2&tid=G-TEST1234&cid=111.222&en=purchase&ep.transaction_id={transactionId}&cu=EUR&epn.value=19.99&gcs=G111&gcd=13r3r3r3r5";

    private static async Task PostAsync(CapiGateway gateway, string json)
    {
        using var response = await CapiGateway.PostEventsAsync(gateway.Public, json);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private static async Task<JsonElement> GapFillAsync(CapiGateway gateway) =>
        (await gateway.GetJsonAsync("/capi/match-quality")).GetProperty("googleAnalyticsGapFill");

    private static async Task<bool> CountAsync(CapiGateway gateway, string name, long expected) =>
        await Wait.UntilAsync(() => GapFillAsync(gateway).GetAwaiter().GetResult().GetProperty(name).GetInt64() == expected);

    [Fact]
    public async Task A_backend_purchase_no_browser_reported_reaches_GA_once_after_the_window()
    {
        await using var gateway = await StartAsync();
        await PostAsync(gateway, Purchase("GF-1"));

        // Still inside the window: waiting for the browser's own hit.
        await Task.Delay(Window / 3);
        Assert.Empty(Mp.Events);

        Assert.True(await Wait.UntilAsync(() => Mp.Events.Count == 1));
        await Task.Delay(Window);
        var sent = Assert.Single(Mp.Events);
        Assert.Empty(Mp.Rejections);
        Assert.Equal("purchase", sent.Name);
        Assert.Equal("GF-1", sent.TransactionId);
        Assert.Equal("111.222", sent.ClientId); // the _ga cookie's client id part
        Assert.Equal("u-42", sent.Request.GetProperty("user_id").GetString());
        Assert.Equal("GRANTED", sent.Request.GetProperty("consent").GetProperty("ad_user_data").GetString());
        Assert.Equal("GRANTED", sent.Request.GetProperty("consent").GetProperty("ad_personalization").GetString());
        var user = sent.Request.GetProperty("user_data");
        Assert.True(TestKeys.IsSha256Hex(user.GetProperty("sha256_email_address")[0].GetString()!));
        Assert.DoesNotContain("Jane", sent.Request.GetRawText(), StringComparison.OrdinalIgnoreCase);
        Assert.Equal("US", user.GetProperty("address")[0].GetProperty("country").GetString());
        var prms = sent.Event.GetProperty("params");
        Assert.Equal(19.99m, prms.GetProperty("value").GetDecimal());
        Assert.Equal("EUR", prms.GetProperty("currency").GetString());
        Assert.Equal("1700000000", prms.GetProperty("session_id").GetString());
        Assert.Equal("SKU1", prms.GetProperty("items")[0].GetProperty("item_id").GetString());
        var micros = sent.Request.GetProperty("timestamp_micros").GetInt64();
        Assert.InRange(micros, DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeMilliseconds() * 1000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1000);
        Assert.True(await CountAsync(gateway, "sent", 1));
    }

    [Fact]
    public async Task A_browser_hit_first_means_nothing_is_sent()
    {
        await using var gateway = await StartAsync();
        using (var hit = await gateway.SendHitAsync(BrowserHit("GF-2"), cookie: "_ga=GA1.1.111.222"))
        {
            Assert.Equal(HttpStatusCode.NoContent, hit.StatusCode);
        }

        Assert.True(await Wait.UntilAsync(() => Fake.GaHits == 1));
        await Task.Delay(300); // the pipeline records the hit off the request path
        await PostAsync(gateway, Purchase("GF-2"));

        Assert.True(await CountAsync(gateway, "cancelledByBrowser", 1));
        await Task.Delay(Window);
        Assert.Empty(Mp.Events);
        Assert.Equal(0, Mp.Requests);
    }

    [Fact]
    public async Task A_browser_hit_inside_the_window_cancels_the_server_copy()
    {
        await using var gateway = await StartAsync();
        await PostAsync(gateway, Purchase("GF-3"));
        await Task.Delay(Window / 4);
        using (var hit = await gateway.SendHitAsync(BrowserHit("GF-3")))
        {
            Assert.Equal(HttpStatusCode.NoContent, hit.StatusCode);
        }

        Assert.True(await CountAsync(gateway, "cancelledByBrowser", 1));
        await Task.Delay(Window);
        Assert.Empty(Mp.Events);
        Assert.Equal(1, Fake.GaHits);
        Assert.Equal(0, (await GapFillAsync(gateway)).GetProperty("sent").GetInt64());
    }

    [Fact]
    public async Task A_browser_hit_after_the_window_is_forwarded_and_counted_as_a_late_twin()
    {
        await using var gateway = await StartAsync();
        await PostAsync(gateway, Purchase("GF-4"));
        Assert.True(await Wait.UntilAsync(() => Mp.Events.Count == 1));
        Assert.True(await CountAsync(gateway, "sent", 1));

        using (var hit = await gateway.SendHitAsync(BrowserHit("GF-4")))
        {
            Assert.Equal(HttpStatusCode.NoContent, hit.StatusCode);
        }

        Assert.True(await CountAsync(gateway, "lateBrowserTwin", 1));
        Assert.Equal(1, Fake.GaHits); // the host forwarded the hit as always
        Assert.Single(Mp.Events);
        var metrics = await gateway.Management.GetStringAsync("/metrics");
        Assert.Contains("late_browser_twin", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refused_consent_or_no_signal_in_a_strict_region_sends_nothing()
    {
        await using var gateway = await StartAsync();
        await PostAsync(gateway, Purchase("GF-5", consent: """{"analytics_storage":"denied","ad_storage":"denied","ad_user_data":"denied","ad_personalization":"denied"}""", region: "DE"));
        await PostAsync(gateway, Purchase("GF-6", consent: "null", region: "FR"));
        await PostAsync(gateway, Purchase("GF-7")); // a consented control, so the wait below is not empty-handed

        Assert.True(await Wait.UntilAsync(() => Mp.Events.Count >= 1));
        await Task.Delay(Window);
        var only = Assert.Single(Mp.Events);
        Assert.Equal("GF-7", only.TransactionId);
    }

    [Fact]
    public async Task An_event_older_than_72_hours_is_dropped_and_counted()
    {
        // TikTok takes 7 days, so ingest accepts the event; Google Analytics' 72 hours drop it at delivery.
        await using var gateway = await StartAsync(tiktok: true);
        var old = DateTimeOffset.UtcNow.AddHours(-73).ToUnixTimeSeconds();
        await PostAsync(gateway, Purchase("GF-8", eventTime: old));
        await PostAsync(gateway, Purchase("GF-9"));

        Assert.True(await CountAsync(gateway, "droppedStale", 1));
        Assert.True(await Wait.UntilAsync(() => Mp.Events.Count == 1));
        Assert.Equal("GF-9", Assert.Single(Mp.Events).TransactionId);
        Assert.Empty(Mp.Rejections);
    }

    [Fact]
    public async Task The_validate_call_shows_the_validation_servers_answer()
    {
        await using var gateway = await StartAsync();
        using var response = await gateway.Management.PostAsync("/capi/google-analytics/validate", null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var doc = JsonDocument.Parse(body);
        Assert.True(doc.RootElement.GetProperty("valid").GetBoolean());
        Assert.Equal(0, doc.RootElement.GetProperty("validationMessages").GetArrayLength());
        Assert.Equal(1, Mp.DebugRequests);
        Assert.Equal(0, Mp.Requests); // nothing went to the real collect endpoint
        Assert.DoesNotContain(FakeMeasurementProtocol.ApiSecret, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_validate_call_passes_on_Googles_messages_for_a_wrong_secret()
    {
        var settings = Fake.CapiSettings(Store.Path, meta: false, tiktok: false, linkedIn: false, google: false);
        foreach ((var key, var value) in Mp.Settings(Window))
        {
            settings[key] = value;
        }

        settings["Capi:GoogleAnalytics:ApiSecret"] = "not-the-secret";
        await using var gateway = await CapiGateway.StartAsync(Fake, settings);
        using var response = await gateway.Management.PostAsync("/capi/google-analytics/validate", null);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.False(doc.RootElement.GetProperty("valid").GetBoolean());
        Assert.Contains(doc.RootElement.GetProperty("validationMessages").EnumerateArray(), m => m.GetProperty("description").GetString()!.Contains("api_secret", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_secret_never_reaches_a_log_line()
    {
        var settings = Fake.CapiSettings(Store.Path, meta: false, tiktok: false, linkedIn: false, google: false);
        foreach ((var key, var value) in Mp.Settings(TimeSpan.Zero))
        {
            settings[key] = value;
        }

        settings["Logging:LogLevel:Default"] = "Trace";
        await using var gateway = await CapiGateway.StartAsync(Fake, settings);
        await PostAsync(gateway, Purchase("GF-10"));
        Assert.True(await Wait.UntilAsync(() => Mp.Events.Count == 1));
        Assert.DoesNotContain(gateway.Logs.GetSnapshot(), r => r.Message.Contains(FakeMeasurementProtocol.ApiSecret, StringComparison.Ordinal)
            || (r.Exception?.ToString().Contains(FakeMeasurementProtocol.ApiSecret, StringComparison.Ordinal) ?? false));
    }
}
