using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using TagGateway.Capi.Configuration;

namespace TagGateway.Capi.Tests.Ingest;

/// <summary>Issue #16 through POST /capi/v1/events: the ledger at its smallest budget evicts, says so, and still dedups recent events.</summary>
public sealed class LedgerBudgetIngestTests : CapiFakesTest
{
    private static string Purchase(string transactionId) => $$"""
        {"event_name":"purchase","transaction_id":"{{transactionId}}","currency":"EUR","value":19.99,
         "event_time":{{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}},"page_url":"https://shop.example/thanks",
         "user":{"email":"buyer@example.com","phone":"+1 (650) 555-1212","first_name":"Mary","last_name":"Smith","country":"US","zip":"94045","ip":"203.0.113.9","user_agent":"Mozilla/5.0 Backend"},
         "consent":{"ad_storage":"granted","ad_user_data":"granted","ad_personalization":"granted"},"region":"US"}
        """;

    private static async Task<JsonElement> PostAsync(CapiGateway gateway, IEnumerable<string> ids)
    {
        using var response = await CapiGateway.PostEventsAsync(gateway.Public, $$"""{"events":[{{string.Join(',', ids.Select(Purchase))}}]}""");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, body);
        return JsonDocument.Parse(body).RootElement;
    }

    [Fact]
    public async Task After_evictions_a_repeat_of_a_recent_event_still_merges_and_the_shortened_window_is_loud()
    {
        var settings = Fake.CapiSettings(Store.Path);
        // Nothing is sent during the test: every event waits its merge window, so a repeat merges into a pending twin.
        settings["Capi:MergeWindow"] = "01:00:00";
        // The smallest budget: about 26,000 keys before it evicts; four destinations make four keys an event.
        settings["Capi:Store:LedgerMaxBytes"] = (1024 * 1024).ToString(CultureInfo.InvariantCulture);
        await using var gateway = await CapiGateway.StartAsync(Fake, settings);

        for (var r = 0; r < 8; r++)
        {
            var answer = await PostAsync(gateway, Enumerable.Range(0, 1_000).Select(i => $"B{r}-{i}"));
            Assert.Equal(1_000, answer.GetProperty("accepted").GetInt32());
        }

        // The newest order again: merged into its waiting twin, not stored twice.
        var recent = await PostAsync(gateway, ["B7-999"]);
        Assert.Equal("merged", recent.GetProperty("events")[0].GetProperty("status").GetString());

        // The oldest order's keys were evicted: a repeat of it is stored again (the platforms dedup it by its id).
        var oldest = await PostAsync(gateway, ["B0-0"]);
        Assert.Equal("accepted", oldest.GetProperty("events")[0].GetProperty("status").GetString());

        // Counted, gauged, logged and on the setup check.
        var metrics = await gateway.Management.GetStringAsync("/metrics");
        Assert.True(Value(metrics, "taggateway_capi_dedup_evicted_total") > 0, metrics);
        var window = Value(metrics, "taggateway_capi_dedup_window_seconds");
        Assert.InRange(window, 0, TimeSpan.FromHours(48).TotalSeconds - 1);
        Assert.Contains(gateway.Logs.GetSnapshot(), static r => r.Id.Id == 5008);
        var setup = await gateway.GetJsonAsync("/ui/api/setup");
        var line = setup.GetProperty("lines").EnumerateArray().Single(static l => l.GetProperty("id").GetString() == "capi-dedup");
        Assert.Equal("amber", line.GetProperty("level").GetString());
        Assert.Contains("Capi:Store:LedgerMaxBytes", line.GetProperty("fix").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("65536", "1000", "Capi:Store:LedgerMaxBytes")] // under the 1 MiB floor
    [InlineData("1048576", "10000", "fewer than two full requests' worth (40000")] // one request could evict the one before
    public void A_ledger_budget_too_small_to_dedup_refuses_to_start(string budget, string eventsPerRequest, string expected)
    {
        var services = new ServiceCollection();
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Capi:Meta:PixelId"] = "123",
            ["Capi:Meta:AccessToken"] = "token",
            ["Capi:TikTok:PixelCode"] = "CABC",
            ["Capi:TikTok:AccessToken"] = "token",
            ["Capi:Store:LedgerMaxBytes"] = budget,
            ["Capi:Ingest:MaxEventsPerRequest"] = eventsPerRequest,
        }).Build();
        services.AddTagGatewayCapi(configuration);
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<CapiOptions>>().Value);
        Assert.Contains(expected, string.Join('\n', ex.Failures), StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_ledger_budget_is_64_MiB_and_valid()
    {
        var services = new ServiceCollection();
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Capi:Meta:PixelId"] = "123",
            ["Capi:Meta:AccessToken"] = "token",
        }).Build();
        services.AddTagGatewayCapi(configuration);
        using var provider = services.BuildServiceProvider();
        Assert.Equal(64L * 1024 * 1024, provider.GetRequiredService<IOptions<CapiOptions>>().Value.Store.LedgerMaxBytes);
    }

    private static double Value(string prometheus, string name)
    {
        foreach (var line in prometheus.Split('\n'))
        {
            if (line.StartsWith(name, StringComparison.Ordinal) && line.Length > name.Length && line[name.Length] is ' ' or '{')
            {
                return double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        throw new Xunit.Sdk.XunitException($"{name} is not in /metrics");
    }
}
