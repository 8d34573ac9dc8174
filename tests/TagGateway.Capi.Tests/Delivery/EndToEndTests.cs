using System.Net;
using System.Text.Json;

namespace TagGateway.Capi.Tests.Delivery;

/// <summary>The real host with CAPI on, GA4 hits and backend events in, the four fake platforms out.</summary>
public sealed class EndToEndTests : CapiFakesTest
{
    private const string Granted = "gcs=G111&gcd=13n3n3n3n5";

    private static string Purchase(string transactionId, string email, string region = "US", string consent = """{"ad_storage":"granted","ad_user_data":"granted","ad_personalization":"granted"}""", long? time = null, string name = "purchase") => $$"""
        {"event_name":"{{name}}","transaction_id":"{{transactionId}}","currency":"EUR","value":19.99,
         "event_time":{{time ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds()}},"page_url":"https://shop.example/thanks",
         "user":{"email":"{{email}}","phone":"+1 (650) 555-1212","first_name":"Mary","last_name":"Smith","country":"US","zip":"94045-1234","ip":"203.0.113.9","user_agent":"Mozilla/5.0 Backend"},
         "consent":{{consent}},"region":"{{region}}"}
        """;

    [Fact]
    public async Task The_same_purchase_from_the_browser_and_the_backend_is_sent_once_per_platform_with_merged_identity()
    {
        var settings = Fake.CapiSettings(Store.Path);
        settings["Capi:MergeWindow"] = "00:00:01.500";
        await using var gateway = await CapiGateway.StartAsync(Fake, settings);

        // The browser's hit: cookies and a landing URL with fbclid, no email.
        var hit = $"v=2&tid=G-TEST1234&cid=111.222&_p=98765&_s=3&en=purchase&cu=EUR&ep.transaction_id=T-100&epn.value=19.99" +
            $"&pr1=idSKU1~nmLamp~pr19.99~qt1&dl={Uri.EscapeDataString("https://shop.example/thanks?fbclid=IwAR0abc")}&{Granted}";
        using var forwarded = await gateway.SendHitAsync(hit, cookie: "_ga=GA1.1.111.222; _fbp=fb.1.1700000000000.424242; _ttp=ttpCookieValue; li_fat_id=85929337-d448-42da-a095-0b3c5500fa50");
        Assert.Equal(HttpStatusCode.NoContent, forwarded.StatusCode);
        Assert.True(await Wait.UntilAsync(() => gateway.GetJsonAsync("/capi/store").GetAwaiter().GetResult().GetProperty("events").GetInt32() == 1));

        // The backend's report of the same order: email and phone, no cookies.
        using var accepted = await CapiGateway.PostEventsAsync(gateway.Public, $$"""{"events":[{{Purchase("T-100", "Mary.Smith@Example.com")}}]}""");
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var answer = JsonDocument.Parse(await accepted.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(1, answer.GetProperty("merged").GetInt32());

        Assert.True(await Wait.UntilAsync(() => Fake.For("meta").Any() && Fake.For("tiktok").Any() && Fake.For("linkedin").Any() && Fake.For("google").Any()), string.Join("; ", Fake.Rejections));
        await Task.Delay(1500);

        var meta = Assert.Single(Fake.For("meta"));
        Assert.Equal("Purchase", meta.EventName);
        Assert.Equal("T-100", meta.EventId);
        var user = meta.Json.GetProperty("user_data");
        Assert.Equal(Identity(email: "mary.smith@example.com"), user.GetProperty("em").GetString()); // from the backend
        Assert.Equal("fb.1.1700000000000.424242", user.GetProperty("fbp").GetString()); // from the browser
        Assert.EndsWith(".IwAR0abc", user.GetProperty("fbc").GetString(), StringComparison.Ordinal); // built from the fbclid
        Assert.Equal("Mozilla/5.0 (X11; Linux x86_64) Test/1.0", user.GetProperty("client_user_agent").GetString()); // the browser's wins
        Assert.Equal(Identity(email: "16505551212"), user.GetProperty("ph").GetString());
        Assert.Equal(19.99m, meta.Json.GetProperty("custom_data").GetProperty("value").GetDecimal());

        var tiktok = Assert.Single(Fake.For("tiktok"));
        Assert.Equal("CompletePayment", tiktok.EventName);
        Assert.Equal("ttpCookieValue", tiktok.Json.GetProperty("user").GetProperty("ttp").GetString());
        Assert.Equal(Identity(email: "+16505551212"), tiktok.Json.GetProperty("user").GetProperty("phone").GetString());

        var linkedIn = Assert.Single(Fake.For("linkedin"));
        Assert.Equal("urn:lla:llaPartnerConversion:111", linkedIn.EventName);
        Assert.Equal(2, linkedIn.Json.GetProperty("user").GetProperty("userIds").GetArrayLength());
        Assert.Equal("19.99", linkedIn.Json.GetProperty("conversionValue").GetProperty("amount").GetString());

        var google = Assert.Single(Fake.For("google"));
        Assert.Equal("T-100", google.EventId);
        Assert.Equal("CONSENT_GRANTED", google.Json.GetProperty("consent").GetProperty("adUserData").GetString());
        Assert.Empty(Fake.Rejections);

        // The backend retries its call: a duplicate, nothing sent again.
        using var again = await CapiGateway.PostEventsAsync(gateway.Public, $$"""{"events":[{{Purchase("T-100", "Mary.Smith@Example.com")}}]}""");
        Assert.Contains("\"duplicate\"", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await Task.Delay(700);
        Assert.Single(Fake.For("meta"));
        Assert.Equal(4, Fake.Events.Count);
    }

    [Fact]
    public async Task An_outage_delays_delivery_but_everything_arrives_once()
    {
        await using var gateway = await CapiGateway.StartAsync(Fake, Fake.CapiSettings(Store.Path, tiktok: false, linkedIn: false, google: false));
        Fake.FailNext("meta", 8);
        var events = string.Join(',', Enumerable.Range(0, 60).Select(i => Purchase($"O-{i}", $"buyer{i}@example.com")));
        using var response = await CapiGateway.PostEventsAsync(gateway.Public, $$"""{"events":[{{events}}]}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        Assert.True(await Wait.UntilAsync(() => Fake.For("meta").Count() >= 60, TimeSpan.FromSeconds(30)), $"{Fake.For("meta").Count()} delivered; {string.Join("; ", Fake.Rejections)}");
        await Task.Delay(500);
        Assert.True(Fake.Requests("meta") > 8, "the outage was answered");
        Assert.Equal(60, Fake.For("meta").Select(static e => e.EventId).Distinct().Count());
        Assert.Equal(60, Fake.For("meta").Count());
    }

    [Fact]
    public async Task Dead_letter_management_refuses_a_destination_it_does_not_know()
    {
        await using var gateway = await CapiGateway.StartAsync(Fake, Fake.CapiSettings(Store.Path, tiktok: false, linkedIn: false, google: false));

        using var list = await gateway.Management.GetAsync("/capi/dead-letters?destination=myspace");
        using var replay = await gateway.Management.PostAsync("/capi/dead-letters/1/replay?destination=myspace", null);
        using var replayAll = await gateway.Management.PostAsync("/capi/dead-letters/replay?destination=metaa", null);
        using var known = await gateway.Management.GetAsync("/capi/dead-letters?destination=tiktok");

        Assert.Equal(HttpStatusCode.BadRequest, list.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, replayAll.StatusCode); // a typo never replays every destination
        Assert.Equal(HttpStatusCode.OK, known.StatusCode);
    }

    [Fact]
    public async Task An_expired_token_dead_letters_the_batch_without_a_retry_storm_and_replay_delivers_it()
    {
        await using var gateway = await CapiGateway.StartAsync(Fake, Fake.CapiSettings(Store.Path, tiktok: false, linkedIn: false, google: false));
        Fake.MetaTokenExpired = true;
        var events = string.Join(',', Enumerable.Range(0, 10).Select(i => Purchase($"X-{i}", $"x{i}@example.com")));
        using var response = await CapiGateway.PostEventsAsync(gateway.Public, $$"""{"events":[{{events}}]}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        JsonElement letters = default;
        Assert.True(await Wait.UntilAsync(() =>
        {
            letters = gateway.GetJsonAsync("/capi/dead-letters?destination=meta").GetAwaiter().GetResult();
            return letters.GetProperty("count").GetInt32() == 10;
        }));
        Assert.Contains("code 190", letters.GetProperty("deadLetters")[0].GetProperty("error").GetString(), StringComparison.Ordinal);
        await Task.Delay(1000);
        Assert.Equal(1, Fake.Requests("meta")); // one request for the batch, never retried
        Assert.Empty(Fake.For("meta"));

        // The management listener only: the public one has no such route.
        using var publicReplay = await gateway.Public.PostAsync("/capi/dead-letters/replay", null);
        Assert.Equal(HttpStatusCode.NotFound, publicReplay.StatusCode);

        Fake.MetaTokenExpired = false;
        using var replay = await gateway.Management.PostAsync("/capi/dead-letters/replay?destination=meta", null);
        Assert.Equal(HttpStatusCode.Accepted, replay.StatusCode);
        Assert.True(await Wait.UntilAsync(() => Fake.For("meta").Count() == 10));
        var after = await gateway.GetJsonAsync("/capi/dead-letters");
        Assert.Equal(0, after.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Stale_events_are_dropped_before_they_can_fail_Metas_whole_batch()
    {
        await using var gateway = await CapiGateway.StartAsync(Fake, Fake.CapiSettings(Store.Path, tiktok: false, google: false));
        var eightDaysAgo = DateTimeOffset.UtcNow.AddDays(-8).ToUnixTimeSeconds();
        var events = string.Join(',', Purchase("S-1", "a@example.com"), Purchase("S-OLD", "b@example.com", time: eightDaysAgo), Purchase("S-2", "c@example.com"));
        using var response = await CapiGateway.PostEventsAsync(gateway.Public, $$"""{"events":[{{events}}]}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        Assert.True(await Wait.UntilAsync(() => Fake.For("meta").Count() == 2 && Fake.For("linkedin").Count() == 3));
        Assert.DoesNotContain(Fake.For("meta"), static e => e.EventId == "S-OLD");
        Assert.Contains(Fake.For("linkedin"), static e => e.EventId == "S-OLD"); // LinkedIn takes 90 days
        Assert.Empty(Fake.Rejections);
        Assert.Equal(1, Fake.Requests("meta"));
    }

    [Fact]
    public async Task Denied_consent_sends_nothing_to_ad_platforms_and_only_a_consent_denied_conversion_to_Google()
    {
        await using var gateway = await CapiGateway.StartAsync(Fake, Fake.CapiSettings(Store.Path));
        var denied = """{"ad_storage":"denied","ad_user_data":"denied","ad_personalization":"denied"}""";
        using var response = await CapiGateway.PostEventsAsync(gateway.Public, $$"""{"events":[{{Purchase("D-1", "d@example.com", "DE", denied)}}]}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        // A hit from a strict region without any signal: the region default denies.
        using var hit = await gateway.SendHitAsync("v=2&tid=G-TEST1234&cid=1.2&en=purchase&ep.transaction_id=D-2&cu=EUR&epn.value=5");
        Assert.Equal(HttpStatusCode.NoContent, hit.StatusCode);

        Assert.True(await Wait.UntilAsync(() => Fake.For("google").Count() == 2));
        await Task.Delay(800);
        Assert.Empty(Fake.For("meta"));
        Assert.Empty(Fake.For("tiktok"));
        Assert.Empty(Fake.For("linkedin"));
        foreach (var google in Fake.For("google"))
        {
            Assert.Equal("CONSENT_DENIED", google.Json.GetProperty("consent").GetProperty("adUserData").GetString());
            Assert.False(google.Json.TryGetProperty("userData", out _));
            Assert.False(google.Json.TryGetProperty("adIdentifiers", out _));
        }
    }

    [Fact]
    public async Task Ad_user_data_denied_sends_without_user_data_and_personalization_denied_sends_Meta_LDU()
    {
        await using var gateway = await CapiGateway.StartAsync(Fake, Fake.CapiSettings(Store.Path, linkedIn: false, google: false));
        var noUserData = """{"ad_storage":"granted","ad_user_data":"denied","ad_personalization":"granted"}""";
        var restricted = """{"ad_storage":"granted","ad_user_data":"granted","ad_personalization":"denied"}""";
        var body = $$"""{"events":[{{Purchase("U-1", "u@example.com", "FR", noUserData)}},{{Purchase("L-1", "l@example.com", "FR", restricted)}}]}""";
        using var response = await CapiGateway.PostEventsAsync(gateway.Public, body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        Assert.True(await Wait.UntilAsync(() => Fake.For("meta").Count() == 2 && Fake.For("tiktok").Count() == 2), string.Join("; ", Fake.Rejections));
        var bare = Fake.For("meta").Single(static e => e.EventId == "U-1");
        Assert.Empty(bare.Json.GetProperty("user_data").EnumerateObject());
        var ldu = Fake.For("meta").Single(static e => e.EventId == "L-1");
        Assert.Equal("LDU", ldu.Json.GetProperty("data_processing_options")[0].GetString());
        Assert.True(ldu.Json.GetProperty("user_data").TryGetProperty("em", out _));
        Assert.True(Fake.For("tiktok").Single(static e => e.EventId == "L-1").Json.GetProperty("limited_data_use").GetBoolean());
        Assert.Empty(Fake.Rejections);
    }

    [Fact]
    public async Task Match_quality_reports_key_shares_and_the_estimated_score()
    {
        await using var gateway = await CapiGateway.StartAsync(Fake, Fake.CapiSettings(Store.Path, tiktok: false, linkedIn: false, google: false));
        var bare = $$"""{"event_name":"purchase","transaction_id":"Q-2","event_time":{{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}},"page_url":"https://shop.example/","user":{"ip":"203.0.113.1","user_agent":"UA"},"consent":{"ad_storage":"granted","ad_user_data":"granted","ad_personalization":"granted"},"region":"US"}""";
        using var response = await CapiGateway.PostEventsAsync(gateway.Public, $$"""{"events":[{{Purchase("Q-1", "q@example.com")}},{{bare}}]}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.True(await Wait.UntilAsync(() => Fake.For("meta").Count() == 2));

        JsonElement report = default;
        Assert.True(await Wait.UntilAsync(() =>
        {
            report = gateway.GetJsonAsync("/capi/match-quality").GetAwaiter().GetResult();
            return report.GetProperty("destinations")[0].GetProperty("deliveredEvents").GetInt64() == 2;
        }));
        var meta = report.GetProperty("destinations")[0];
        Assert.Equal("meta", meta.GetProperty("destination").GetString());
        Assert.Equal(0.5, meta.GetProperty("keyShares").GetProperty("em").GetDouble());
        Assert.Equal(1.0, meta.GetProperty("keyShares").GetProperty("ip").GetDouble());
        // Q-1: em 4 + ph 2 + ip 1 + ua 1 + country 0.5 + fn 0.25 + ln 0.25 + zp 0.25 = 9.25; Q-2: ip + ua = 2. Mean 5.63.
        Assert.Equal(5.625, meta.GetProperty("estimatedScore").GetDouble(), 0.006);
    }

    private static string Identity(string email) => TagGateway.Capi.Identity.Sha256Hex.Hash(email);
}
