using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using TagGateway.Capi.Identity;
using TagGateway.Capi.Model;
using TagGateway.Capi.Storage;
using TagGateway.Capi.Tests.Infrastructure;

namespace TagGateway.Capi.Tests.Delivery;

/// <summary>
/// Issue #17: platforms that redirect (never followed, the token never leaves), one bad event in a batch (fails alone),
/// a stored value no payload can format (the worker goes on, the dead-letter listing stays 200).
/// </summary>
public sealed class HardeningTests : CapiFakesTest
{
    internal static string Purchase(string id, long? time = null) => $$"""
        {"event_name":"purchase","event_id":"{{id}}","transaction_id":"{{id}}","event_time":{{time ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds()}},
         "page_url":"https://shop.example/thanks","currency":"EUR","value":5,
         "user":{"email":"{{id}}@example.com","ip":"203.0.113.9","user_agent":"Mozilla/5.0 Backend"},
         "consent":{"ad_storage":"granted","ad_user_data":"granted","ad_personalization":"granted"},"region":"US"}
        """;

    private Dictionary<string, string?> Only(string platform) =>
        Fake.CapiSettings(Store.Path, meta: platform == "meta", tiktok: platform == "tiktok", linkedIn: platform == "linkedin", google: platform == "google");

    private static async Task<JsonElement> DeadLettersAsync(CapiGateway gateway)
    {
        using var response = await gateway.Management.GetAsync("/capi/dead-letters");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    [Theory]
    [InlineData("meta")]
    [InlineData("tiktok")]
    [InlineData("linkedin")]
    [InlineData("google")]
    public async Task A_platform_answering_307_is_not_followed_and_the_batch_is_dead_lettered_naming_only_the_host(string platform)
    {
        await using var canary = await Canary.StartAsync();
        Fake.RedirectTo(platform, canary.Url + "/steal/path?access_token=leaked-secret");
        await using var gateway = await CapiGateway.StartAsync(Fake, Only(platform));

        using var accepted = await CapiGateway.PostEventsAsync(gateway.Public, $$"""{"events":[{{Purchase("R-1")}},{{Purchase("R-2")}}]}""");
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);

        JsonElement letters = default;
        Assert.True(await Wait.UntilAsync(() =>
        {
            letters = DeadLettersAsync(gateway).GetAwaiter().GetResult();
            return letters.GetProperty("count").GetInt32() == 2;
        }), $"requests to {platform}: {Fake.Requests(platform)}");
        await Task.Delay(500);

        foreach (var letter in letters.GetProperty("deadLetters").EnumerateArray())
        {
            var error = letter.GetProperty("error").GetString()!;
            Assert.Contains("redirect to 127.0.0.1", error, StringComparison.Ordinal);
            Assert.DoesNotContain("steal", error, StringComparison.Ordinal);
            Assert.DoesNotContain("leaked", error, StringComparison.Ordinal);
        }

        Assert.Empty(canary.Received); // nothing followed the redirect: no token, no payload
        Assert.Empty(Fake.For(platform)); // never counted as delivered
        Assert.Equal(1, Fake.Requests(platform)); // one request, not retried, not split
        var logs = gateway.Logs.GetSnapshot();
        Assert.Contains(logs, static r => r.Id.Id == 5103 && r.Message.Contains("127.0.0.1", StringComparison.Ordinal));
        Assert.DoesNotContain(logs, static r => r.Message.Contains("steal", StringComparison.Ordinal) || r.Message.Contains("leaked", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("meta")]
    [InlineData("tiktok")]
    [InlineData("google")]
    public async Task One_event_a_platform_refuses_fails_alone_and_its_31_batch_mates_are_delivered(string platform)
    {
        Fake.PoisonEventId = "P-7";
        await using var gateway = await CapiGateway.StartAsync(Fake, Only(platform));
        var events = string.Join(',', Enumerable.Range(0, 32).Select(static i => Purchase($"P-{i}")));
        using var accepted = await CapiGateway.PostEventsAsync(gateway.Public, $$"""{"events":[{{events}}]}""");
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);

        Assert.True(await Wait.UntilAsync(() => Fake.For(platform).Count() == 31), $"{Fake.For(platform).Count()} delivered");
        JsonElement letters = default;
        Assert.True(await Wait.UntilAsync(() =>
        {
            letters = DeadLettersAsync(gateway).GetAwaiter().GetResult();
            return letters.GetProperty("count").GetInt32() == 1;
        }));
        await Task.Delay(300);

        Assert.Equal("P-7", letters.GetProperty("deadLetters")[0].GetProperty("eventId").GetString());
        Assert.DoesNotContain(Fake.For(platform), static e => e.EventId == "P-7");
        Assert.Equal(31, Fake.For(platform).Select(static e => e.EventId).Distinct().Count());
        Assert.Equal(31, Fake.For(platform).Count()); // each delivered once

        // The whole batch (1), then halves: ≤ 2·log2(32) more, far fewer than one request per event.
        Assert.InRange(Fake.Requests(platform), 2, 11);
    }

    [Fact]
    public async Task A_stored_event_time_no_date_can_hold_dead_letters_that_event_only_and_the_listing_stays_200()
    {
        var settings = Fake.CapiSettings(Store.Path, tiktok: false, linkedIn: false);
        await using var gateway = await CapiGateway.StartAsync(Fake, settings);
        var store = gateway.Services.GetRequiredService<ICapiStore>();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        // What `event_time: 300000000000000` became before ingest bounded it: a time past year 9999 (issue #17.4).
        CapiEvent[] events = [Stored("J-1", now), Stored("J-BAD", 300_000_000_000_000), Stored("J-2", now)];
        var statuses = await store.AcceptAsync(events, durable: true, default);
        Assert.All(statuses, static s => Assert.Equal(AcceptStatus.Accepted, s));

        Assert.True(await Wait.UntilAsync(() => Fake.For("meta").Count() == 2 && Fake.For("google").Count() == 2),
            $"meta {Fake.For("meta").Count()}, google {Fake.For("google").Count()}");
        JsonElement letters = default;
        Assert.True(await Wait.UntilAsync(() =>
        {
            letters = DeadLettersAsync(gateway).GetAwaiter().GetResult();
            return letters.GetProperty("count").GetInt32() == 2;
        }));

        foreach (var letter in letters.GetProperty("deadLetters").EnumerateArray())
        {
            Assert.Equal("J-BAD", letter.GetProperty("eventId").GetString());
            Assert.False(letter.TryGetProperty("eventTime", out _)); // no date holds it: left out, the raw value below
            Assert.Equal(300_000_000_000_000, letter.GetProperty("eventTimeMs").GetInt64());
        }

        Assert.Contains(letters.GetProperty("deadLetters").EnumerateArray(), static l => l.GetProperty("destination").GetString() == "google_ads");
        Assert.DoesNotContain(Fake.For("google"), static e => e.EventId == "J-BAD");
    }

    [Fact]
    public async Task A_300000000000000_event_time_is_refused_at_ingest_naming_the_field_and_index()
    {
        await using var gateway = await CapiGateway.StartAsync(Fake, Only("meta"));
        using var response = await CapiGateway.PostEventsAsync(gateway.Public, $$"""{"events":[{{Purchase("T-1")}},{{Purchase("T-2", 300000000000000)}}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("events[1].event_time", body, StringComparison.Ordinal);
        Assert.Contains("future", body, StringComparison.Ordinal);
        Assert.Equal(0, (await gateway.GetJsonAsync("/capi/store")).GetProperty("events").GetInt32()); // nothing of the request stored
    }

    private static CapiEvent Stored(string id, long timeMs)
    {
        const DestinationConsent all = DestinationConsent.Send | DestinationConsent.UserData | DestinationConsent.Identifiers;
        return new CapiEvent
        {
            Origin = EventOrigin.Server,
            Name = "purchase",
            EventId = id,
            TransactionId = id,
            TimeMs = timeMs,
            AcceptedMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            PageUrl = "https://shop.example/thanks",
            Currency = "EUR",
            Value = 5,
            Destinations = CapiDestination.Meta.Bit() | CapiDestination.GoogleAds.Bit(),
            Consent = ConsentMask.Set(ConsentMask.Set(0, CapiDestination.Meta, all), CapiDestination.GoogleAds, all),
            Identity = new IdentityData { Em = Sha256Hex.Hash(id.ToLowerInvariant() + "@example.com"), Ip = "203.0.113.9", UserAgent = "UA" },
        };
    }
}
