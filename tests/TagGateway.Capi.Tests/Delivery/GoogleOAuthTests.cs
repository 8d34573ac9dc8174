using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using TagGateway.Capi.Observability;
using TagGateway.Capi.Tests.Infrastructure;

namespace TagGateway.Capi.Tests.Delivery;

/// <summary>
/// Issue #12.4: Google Ads (Data Manager API) with the OAuth refresh-token flow against a loopback token endpoint:
/// tokens refreshed ahead of expiry and once on a 401, a refused refresh keeps the events, no secret in any log line.
/// </summary>
public sealed class GoogleOAuthTests : CapiFakesTest
{
    private readonly string _secretFile = Path.GetTempFileName();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await File.WriteAllTextAsync(_secretFile, FakePlatforms.GoogleClientSecret + "\n");
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        File.Delete(_secretFile);
    }

    private Dictionary<string, string?> Settings()
    {
        var settings = Fake.CapiSettings(Store.Path, meta: false, tiktok: false, linkedIn: false, google: true);
        settings.Remove("Capi:GoogleAds:AccessToken");
        settings["Capi:GoogleAds:RefreshToken"] = FakePlatforms.GoogleRefreshToken;
        settings["Capi:GoogleAds:ClientId"] = FakePlatforms.GoogleClientId;
        settings["Capi:GoogleAds:ClientSecretFile"] = _secretFile;
        settings["Capi:GoogleAds:TokenEndpoint"] = Fake.Url + "/token";
        settings["Capi:MergeWindow"] = "00:00:00";

        // Everything the host writes, at every level, is scanned for secrets.
        settings["Logging:LogLevel:Default"] = "Trace";
        return settings;
    }

    private static string Event(string id, long seconds) => $$"""
        {"events":[{"event_name":"purchase","event_id":"{{id}}","transaction_id":"{{id}}","event_time":{{seconds}},"page_url":"https://shop.example/thanks",
          "currency":"EUR","value":5,"user":{"email":"{{id}}@example.com","user_agent":"UA"},
          "consent":{"ad_storage":"granted","ad_user_data":"granted","ad_personalization":"granted"},"region":"US"}]}
        """;

    private async Task<int> DeadLetterCountAsync(CapiGateway gateway) =>
        (await gateway.GetJsonAsync("/capi/dead-letters")).GetProperty("count").GetInt32();

    private void AssertNoSecretLogged(CapiGateway gateway)
    {
        string[] secrets = [FakePlatforms.GoogleClientSecret, FakePlatforms.GoogleRefreshToken, "ya29.", .. Fake.GoogleTokensSeen.Where(static t => t.Length > 0)];
        var logs = gateway.Logs.GetSnapshot();
        Assert.NotEmpty(logs);
        foreach (var record in logs)
        {
            var text = record.Message + " " + record.Exception;
            foreach (var secret in secrets)
            {
                Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public async Task An_hour_later_the_next_batch_carries_a_new_token_refreshed_ahead_of_expiry_and_nothing_is_dead_lettered()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var gateway = await CapiGateway.StartAsync(Fake, Settings(), b => b.Services.AddSingleton<TimeProvider>(time));

        using (var first = await CapiGateway.PostEventsAsync(gateway.Public, Event("G-1", time.GetUtcNow().ToUnixTimeSeconds())))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        }

        Assert.True(await Wait.UntilAsync(() => Fake.For("google").Count() == 1), string.Join("; ", Fake.Rejections));
        Assert.Equal(1, Fake.TokenRequests);

        // The fake platform counts the batch before it answers. Until the worker has recorded the delivery (5101),
        // the resilience pipeline's timeouts run on this fake clock: jumping an hour then would time the first send
        // out and park the worker in a retry delay no one advances, so the second batch would never go.
        Assert.True(await Wait.UntilAsync(() => gateway.Logs.GetSnapshot().Any(static r => r.Id.Id == 5101)));

        // An hour passes: Google has expired the first token (using it now would be a 401).
        time.Advance(TimeSpan.FromHours(1));
        Fake.ExpireGoogleAccessTokens();
        using (var second = await CapiGateway.PostEventsAsync(gateway.Public, Event("G-2", time.GetUtcNow().ToUnixTimeSeconds())))
        {
            Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        }

        Assert.True(await Wait.UntilAsync(() => Fake.For("google").Count() == 2), string.Join("; ", Fake.Rejections));
        string[] seen = [.. Fake.GoogleTokensSeen];
        Assert.Equal(2, seen.Length);
        Assert.NotEqual(seen[0], seen[1]); // the new token, obtained before sending
        Assert.Equal(2, Fake.TokenRequests);
        Assert.Equal(0, Fake.GoogleUnauthorized); // refreshed ahead of expiry, not after a refusal
        Assert.Equal(0, await DeadLetterCountAsync(gateway));
        AssertNoSecretLogged(gateway);
    }

    [Fact]
    public async Task A_401_triggers_exactly_one_refresh_and_a_retry_of_the_batch()
    {
        await using var gateway = await CapiGateway.StartAsync(Fake, Settings());
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using (var first = await CapiGateway.PostEventsAsync(gateway.Public, Event("H-1", now)))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        }

        Assert.True(await Wait.UntilAsync(() => Fake.For("google").Count() == 1));

        // Revoked early (Google may end a token before its expires_in): the next send meets a 401.
        Fake.ExpireGoogleAccessTokens();
        using (var second = await CapiGateway.PostEventsAsync(gateway.Public, Event("H-2", now)))
        {
            Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        }

        Assert.True(await Wait.UntilAsync(() => Fake.For("google").Count() == 2));
        await Task.Delay(300);
        string[] seen = [.. Fake.GoogleTokensSeen];
        Assert.Equal(3, seen.Length); // H-1 with token 1, H-2 with token 1 (401), H-2 again with token 2
        Assert.Equal(seen[0], seen[1]);
        Assert.NotEqual(seen[1], seen[2]);
        Assert.Equal(1, Fake.GoogleUnauthorized);
        Assert.Equal(2, Fake.TokenRequests);
        Assert.Equal(2, Fake.For("google").Count());
        Assert.Equal(0, await DeadLetterCountAsync(gateway));
        AssertNoSecretLogged(gateway);
    }

    [Fact]
    public async Task A_refused_refresh_is_an_error_log_and_a_metric_and_the_events_wait_until_it_works_again()
    {
        Fake.RefuseRefresh = true;
        await using var gateway = await CapiGateway.StartAsync(Fake, Settings());
        using var refreshes = new MetricCollector<long>(gateway.Services.GetRequiredService<CapiMetrics>().Meter, "taggateway.capi.oauth.refreshes");
        using (var accepted = await CapiGateway.PostEventsAsync(gateway.Public, Event("I-1", DateTimeOffset.UtcNow.ToUnixTimeSeconds())))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        Assert.True(await Wait.UntilAsync(() => Fake.TokenRequests >= 2)); // tried, refused, tried again after a backoff
        Assert.Contains(gateway.Logs.GetSnapshot(), static r => r.Id.Id == 5402 && r.Level == LogLevel.Error && r.Message.Contains("invalid_grant", StringComparison.Ordinal));
        Assert.Contains(refreshes.GetMeasurementSnapshot(), static m => (string?)m.Tags["outcome"] == "refused");
        Assert.Empty(Fake.For("google"));
        Assert.Equal(0, Fake.Requests("google")); // no request without a token
        Assert.Equal(0, await DeadLetterCountAsync(gateway));
        var store = await gateway.GetJsonAsync("/capi/store");
        Assert.Equal(1, store.GetProperty("pending").GetProperty("google_ads").GetInt32());

        // The operator fixes the refresh token: the waiting event goes out.
        Fake.RefuseRefresh = false;
        Assert.True(await Wait.UntilAsync(() => Fake.For("google").Count() == 1));
        Assert.Contains(refreshes.GetMeasurementSnapshot(), static m => (string?)m.Tags["outcome"] == "ok");
        AssertNoSecretLogged(gateway);
    }

    [Fact]
    public async Task A_token_endpoint_answering_307_is_not_followed_and_the_client_secret_stays_here()
    {
        await using var canary = await Canary.StartAsync();
        Fake.RedirectTo("token", canary.Url + "/collect?code=leak");
        await using var gateway = await CapiGateway.StartAsync(Fake, Settings());
        using (var accepted = await CapiGateway.PostEventsAsync(gateway.Public, Event("K-1", DateTimeOffset.UtcNow.ToUnixTimeSeconds())))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        Assert.True(await Wait.UntilAsync(() => gateway.Logs.GetSnapshot().Any(static r => r.Id.Id == 5403 && r.Message.Contains("redirect to 127.0.0.1", StringComparison.Ordinal))));
        await Task.Delay(300);
        Assert.Empty(canary.Received);
        Assert.Empty(Fake.For("google"));
        Assert.Equal(0, await DeadLetterCountAsync(gateway)); // a credentials problem: the event waits, it is not its fault
        Assert.DoesNotContain(gateway.Logs.GetSnapshot(), static r => r.Message.Contains("leak", StringComparison.Ordinal));
        AssertNoSecretLogged(gateway);
    }
}
