using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.LiveView;

/// <summary>
/// CAPI ingest requests in the live view, the CAPI side of the setup check and report, and the cookie actions, over
/// real Kestrel with a loopback Meta.
/// </summary>
public sealed class CapiLiveViewTests : IAsyncLifetime
{
    internal const string ApiKey = "live-view-ingest-key-abcdefghijklmnop";
    private const string Email = "jane.doe@example.com";
    private const string Phone = "+4915112345678";
    private const string VisitorIp = "198.51.100.23";
    private const string Fbp = "fb.1.1700000000000.987654321";
    private const string Fbc = "fb.1.1700000000000.AbCdEfGhIjKlMn";
    private const string GaCookie = "GA1.1.555666777.1700000002";

    private MetaCapiSite _site = null!;
    private FakeUpstream _meta = null!;
    private GatewayInstance _gateway = null!;

    public async Task InitializeAsync()
    {
        _site = await MetaCapiSite.StartAsync("liveview", AddLiveView);
        (_meta, _gateway) = (_site.Meta, _site.Gateway);
    }

    internal static Dictionary<string, string?> Settings(FakeUpstream google, FakeUpstream meta, string store)
    {
        var settings = MetaCapiSite.Settings(google, meta, store);
        AddLiveView(settings);
        return settings;
    }

    /// <summary>A trusted edge (cookies are issued) and an ingest key, on top of the Meta site's settings.</summary>
    private static void AddLiveView(Dictionary<string, string?> settings)
    {
        settings["Gateway:ClientIdentity:Edge"] = "ReverseProxy";
        settings["Capi:Ingest:ApiKeys:0"] = ApiKey;
    }

    /// <summary>A server event with every kind of user data the UI must never show.</summary>
    internal static string Event(string name, string id) =>
        "{\"event_name\":\"" + name + "\",\"event_id\":\"" + id + "\",\"event_time\":" + DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)
        + ",\"action_source\":\"website\",\"page_url\":\"https://shop.example.com/thanks\",\"ga_cookie\":\"" + GaCookie + "\",\"currency\":\"EUR\",\"value\":42"
        + ",\"user\":{\"email\":\"" + Email + "\",\"phone\":\"" + Phone + "\",\"ip\":\"" + VisitorIp + "\",\"user_agent\":\"Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0\",\"fbp\":\"" + Fbp + "\",\"fbc\":\"" + Fbc + "\"}"
        + ",\"consent\":{\"ad_storage\":\"granted\",\"analytics_storage\":\"granted\",\"ad_user_data\":\"granted\",\"ad_personalization\":\"granted\"}}";

    internal static async Task<HttpResponseMessage> PostAsync(HttpClient client, string body, string? key = ApiKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/capi/v1/events") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (key is not null)
        {
            request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + key);
        }

        return await client.SendAsync(request);
    }

    private static async Task<JsonElement> GetJsonAsync(HttpClient client, string path)
    {
        using var document = JsonDocument.Parse(await client.GetStringAsync(path));
        return document.RootElement.Clone();
    }

    private async Task WaitForMetaAsync(int requests)
    {
        for (var i = 0; i < 200 && _meta.Requests.Count < requests; i++)
        {
            await Task.Delay(50);
        }

        Assert.True(_meta.Requests.Count >= requests, "Meta was not called");
    }

    [Fact]
    public async Task A_capi_ingest_appears_with_its_events_and_their_fate_per_destination_refusals_included()
    {
        var id = Guid.NewGuid().ToString("N");
        using (var accepted = await PostAsync(_gateway.Public, "{\"events\":[" + Event("purchase", id) + "," + Event("purchase", id) + "," + Event("custom_thing_nobody_maps", "X" + id) + "]}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        }

        using (var refused = await PostAsync(_gateway.Public, "{\"events\":[" + Event("purchase", "other") + "]}", key: "wrong-key-wrong-key-wrong-key"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        var page = await GetJsonAsync(_gateway.Management, "/ui/api/live?route=capi");
        var entries = page.GetProperty("entries").EnumerateArray().ToArray();
        Assert.Equal(2, entries.Length);
        Assert.Equal(401, entries[0].GetProperty("status").GetInt32());
        Assert.Equal(0, entries[0].GetProperty("capi").GetProperty("events").GetArrayLength());

        var ingest = entries[1];
        Assert.Equal("capi", ingest.GetProperty("route").GetString());
        Assert.Equal(202, ingest.GetProperty("status").GetInt32());
        Assert.Equal(3, ingest.GetProperty("eventCount").GetInt32());
        Assert.Equal("purchase", ingest.GetProperty("event").GetString());
        var capi = ingest.GetProperty("capi");
        Assert.Equal(1, capi.GetProperty("accepted").GetInt32());
        Assert.Equal(1, capi.GetProperty("merged").GetInt32() + capi.GetProperty("duplicates").GetInt32());
        Assert.Equal(1, capi.GetProperty("notSent").GetInt32());
        var events = capi.GetProperty("events").EnumerateArray().ToArray();
        Assert.Equal(["accepted", "not_sent"], new[] { events[0], events[2] }.Select(e => e.GetProperty("fate").GetString()));
        Assert.Equal(["meta"], events[0].GetProperty("destinations").EnumerateArray().Select(d => d.GetString()));
        Assert.Empty(events[2].GetProperty("destinations").EnumerateArray());
    }

    [Fact]
    public async Task No_email_phone_ip_or_cookie_value_of_an_ingest_appears_in_any_ui_response()
    {
        using (var response = await PostAsync(_gateway.Public, "{\"events\":[" + Event("purchase", Guid.NewGuid().ToString("N")) + "]}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        await WaitForMetaAsync(1);
        var responses = new List<string>();
        foreach (var path in new[] { "/ui/", "/ui/app.js", "/ui/report.html", "/ui/report.js", "/ui/api/live", "/ui/api/live?route=capi", "/ui/api/setup", "/ui/api/report", "/ui/api/report?download=true" })
        {
            responses.Add(await _gateway.Management.GetStringAsync(path));
        }

        Assert.Contains("\"capi\"", responses[4], StringComparison.Ordinal);
        Assert.Contains("purchase", responses[5], StringComparison.Ordinal);
        var secrets = new[] { Email, "jane.doe", Uri.EscapeDataString(Email), Phone, "15112345678", VisitorIp, "198.51.100", Fbp, "987654321", Fbc, "AbCdEfGhIjKlMn", GaCookie, "555666777", ApiKey };
        foreach (var body in responses)
        {
            foreach (var secret in secrets)
            {
                Assert.DoesNotContain(secret, body, StringComparison.OrdinalIgnoreCase);
            }
        }
    }

    [Fact]
    public async Task Report_capi_numbers_equal_the_prometheus_counters_and_setup_shows_the_last_delivery()
    {
        var setupBefore = await GetJsonAsync(_gateway.Management, "/ui/api/setup");
        Assert.Contains("meta: no delivery since start", Line(setupBefore, "capi").GetProperty("detail").GetString(), StringComparison.Ordinal);

        var id = Guid.NewGuid().ToString("N");
        (await PostAsync(_gateway.Public, "{\"events\":[" + Event("purchase", id) + "]}")).Dispose();
        await WaitForMetaAsync(1);
        (await PostAsync(_gateway.Public, "{\"events\":[" + Event("purchase", id) + "]}")).Dispose();

        // The delivery is counted once Meta answered; the report reads the same counters.
        JsonElement meta = default;
        for (var i = 0; i < 100; i++)
        {
            var report = await GetJsonAsync(_gateway.Management, "/ui/api/report");
            meta = report.GetProperty("capi").GetProperty("destinations").EnumerateArray().Single(d => d.GetProperty("destination").GetString() == "meta");
            if (meta.GetProperty("delivered").GetDouble() >= 1 && meta.GetProperty("duplicatesDropped").GetDouble() + meta.GetProperty("mergedBrowserAndServer").GetDouble() >= 1)
            {
                break;
            }

            await Task.Delay(50);
        }

        var prometheus = LiveViewTests.ParsePrometheus(await _gateway.Management.GetStringAsync("/metrics"));
        Assert.Equal(1, meta.GetProperty("delivered").GetDouble());
        Assert.Equal(Sum(prometheus, "taggateway_capi_events_delivered_total", "destination=\"meta\""), meta.GetProperty("delivered").GetDouble());
        Assert.Equal(Sum(prometheus, "taggateway_capi_events_duplicates_total", "destination=\"meta\""), meta.GetProperty("duplicatesDropped").GetDouble());
        Assert.Equal(Sum(prometheus, "taggateway_capi_events_merged_total", "destination=\"meta\""), meta.GetProperty("mergedBrowserAndServer").GetDouble());
        Assert.Equal(Sum(prometheus, "taggateway_capi_events_dead_lettered_total", "destination=\"meta\""), meta.GetProperty("deadLettered").GetDouble());
        Assert.Equal(1, meta.GetProperty("duplicatesDropped").GetDouble() + meta.GetProperty("mergedBrowserAndServer").GetDouble());
        Assert.Equal(Sum(prometheus, "taggateway_capi_match_quality_score", "destination=\"meta\""), meta.GetProperty("estimatedMatchScore").GetDouble(), 2);
        Assert.True(meta.GetProperty("estimatedMatchScore").GetDouble() >= 8, "email, click id, phone, IP and user agent score high");
        var keys = meta.GetProperty("identityKeys").EnumerateArray().ToDictionary(k => k.GetProperty("key").GetString()!);
        foreach (var key in new[] { "em", "ph", "ip", "ua", "click_id", "browser_id" })
        {
            Assert.Equal(1, keys[key].GetProperty("events").GetDouble());
            Assert.Equal(Sum(prometheus, "taggateway_capi_identity_keys_total", "destination=\"meta\"", $"key=\"{key}\""), keys[key].GetProperty("events").GetDouble());
            Assert.Equal(1, keys[key].GetProperty("share").GetDouble());
        }

        Assert.Equal(4, keys["em"].GetProperty("weight").GetDouble());
        Assert.Equal(0, keys["fn"].GetProperty("events").GetDouble());

        var setup = Line(await GetJsonAsync(_gateway.Management, "/ui/api/setup"), "capi");
        Assert.Equal("green", setup.GetProperty("level").GetString());
        Assert.Contains("meta: last delivery ", setup.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cookies_are_labelled_minted_refreshed_copied_and_restored_as_the_issuer_wrote_them()
    {
        const string Granted = "gcs=G111&gcd=13v3v3v3v5";
        async Task<JsonElement> HitAsync(string cid, string cookie)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/metrics/g/collect?v=2&tid=G-TEST1234&cid={cid}&en=page_view&{Granted}");
            request.Headers.Add("X-Forwarded-Proto", "https");
            request.Headers.Add("X-Forwarded-Host", "shop.example.com");
            request.Headers.Add("X-Forwarded-CountryRegion", "DE-BY");
            request.Headers.Add("Cookie", cookie);
            (await _gateway.Public.SendAsync(request)).Dispose();
            var page = await GetJsonAsync(_gateway.Management, $"/ui/api/live?client={cid}");
            return page.GetProperty("entries").EnumerateArray().First().GetProperty("cookies");
        }

        static Dictionary<string, string> Actions(JsonElement cookies) =>
            cookies.EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("action").GetString()!);

        // A first visit with a script-written _ga: _ga refreshed, its HttpOnly copy written, FPID minted.
        var first = Actions(await HitAsync("1.1", "_ga=GA1.1.111.1700000001"));
        Assert.Equal("refreshed", first["_ga"]);
        Assert.Equal("copied", first["tg_ga"]);
        Assert.Equal("minted", first["FPID"]);

        // Safari wiped the script's _ga; the HttpOnly copy survived and brings it back.
        var second = Actions(await HitAsync("2.2", "tg_ga=GA1.1.111.1700000001; FPID=FPID2.2.abcdefghijklmnopqrstuv.1700000001"));
        Assert.Equal("restored", second["_ga"]);

        var report = await GetJsonAsync(_gateway.Management, "/ui/api/report");
        var prometheus = LiveViewTests.ParsePrometheus(await _gateway.Management.GetStringAsync("/metrics"));
        var cookies = report.GetProperty("cookies");
        Assert.Equal(1, cookies.GetProperty("restored").GetDouble());
        Assert.Equal(Sum(prometheus, "taggateway_cookies_written_total", "action=\"restore\""), cookies.GetProperty("restored").GetDouble());
        Assert.Equal(1, cookies.GetProperty("serverSet").GetDouble());
        Assert.Equal(Sum(prometheus, "taggateway_cookies_written_total", "action=\"mint\""), cookies.GetProperty("serverSet").GetDouble());
        var strict = report.GetProperty("consentByRegion").EnumerateArray().Single(r => r.GetProperty("region").GetString() == "strict");
        Assert.Equal(2, strict.GetProperty("hits").GetDouble());
        Assert.Equal(2, strict.GetProperty("analyticsGranted").GetDouble());
        Assert.Equal(Sum(prometheus, "taggateway_consent_decisions_total", "region=\"strict\""), strict.GetProperty("hits").GetDouble());
    }

    private static JsonElement Line(JsonElement setup, string id) =>
        setup.GetProperty("lines").EnumerateArray().Single(l => l.GetProperty("id").GetString() == id);

    /// <summary>The sum of every /metrics series of <paramref name="metric"/> whose labels contain each pair.</summary>
    internal static double Sum(Dictionary<string, double> prometheus, string metric, params string[] pairs) =>
        prometheus.Where(p => (p.Key == metric || p.Key.StartsWith(metric + "{", StringComparison.Ordinal)) && pairs.All(l => p.Key.Contains(l, StringComparison.Ordinal))).Sum(p => p.Value);

    public Task DisposeAsync() => _site.DisposeAsync().AsTask();
}
