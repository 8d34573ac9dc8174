using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using TagGateway.Consent.Management;

namespace TagGateway.Consent.Tests.Management;

/// <summary>The explain endpoint on a real Kestrel listener on 127.0.0.1, called over HTTP.</summary>
public sealed class ConsentExplainEndpointTests : IAsyncLifetime
{
    private const string CollectUrl = "https://shop.example/metrics/g/collect?v=2&tid=G-TEST&cid=123.456&gcs=G100&gcd=13p3p3p2p5l1&en=page_view";

    private WebApplication? _app;
    private HttpClient? _client;

    private HttpClient Client => _client ?? throw new InvalidOperationException("not started");

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Consent:Destinations:Snap:SendRequires"] = "AdStorage",
        });
        builder.Services.AddTagGatewayConsent(builder.Configuration);

        _app = builder.Build();
        _app.MapConsentExplain();
        await _app.StartAsync();

        var address = _app.Urls.Single();
        Assert.StartsWith("http://127.0.0.1:", address);
        Assert.DoesNotContain(":0", address[^2..]);
        _client = new HttpClient { BaseAddress = new Uri(address) };
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [Fact]
    public async Task Get_explains_a_url_only_hit()
    {
        using var response = await Client.GetAsync("/consent/explain?region=DE&url=" + Uri.EscapeDataString(CollectUrl));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        Assert.Equal("DE", root.GetProperty("region").GetString());
        Assert.False(root.GetProperty("gpc").GetBoolean());

        var hit = Assert.Single(root.GetProperty("events").EnumerateArray());
        Assert.Equal(0, hit.GetProperty("line").GetInt32());
        Assert.Equal("page_view", hit.GetProperty("eventName").GetString());
        Assert.Equal("strict", hit.GetProperty("regionProfile").GetString());
        Assert.Equal("G100", hit.GetProperty("signals").GetProperty("gcs").GetString());
        Assert.Equal("13p3p3p2p5l1", hit.GetProperty("signals").GetProperty("gcd").GetString());
        Assert.Equal("well_formed", hit.GetProperty("signals").GetProperty("gcdStatus").GetString());

        var adStorage = ConsentType(hit, "ad_storage");
        Assert.Equal("denied", adStorage.GetProperty("default").GetString());
        Assert.Equal("unknown", adStorage.GetProperty("update").GetString());
        Assert.Equal("denied", adStorage.GetProperty("gcs").GetString());
        Assert.Equal("denied", adStorage.GetProperty("effective").GetString());
        Assert.Equal("gcd_default", adStorage.GetProperty("source").GetString());

        Assert.Equal("cookieless", Destination(hit, "GoogleAnalytics").GetProperty("outcome").GetString());
        Assert.Equal("blocked", Destination(hit, "Meta").GetProperty("outcome").GetString());
        Assert.Equal("blocked", Destination(hit, "Snap").GetProperty("outcome").GetString());
        Assert.Equal(6, hit.GetProperty("destinations").GetArrayLength());
    }

    [Fact]
    public async Task Post_json_explains_each_body_line()
    {
        var request = new ExplainRequest
        {
            Url = "https://shop.example/g/collect?v=2&tid=G-TEST&gcd=13r3r3r3r5",
            Body = "en=page_view\r\nen=purchase&gcd=13q3q3q3q5\r\nen=scroll&npa=1",
            Region = "FR",
        };

        using var response = await Client.PostAsJsonAsync("/consent/explain", request, ConsentJsonContext.Default.ExplainRequest);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var events = json.RootElement.GetProperty("events").EnumerateArray().ToArray();
        Assert.Equal(3, events.Length);
        Assert.Equal([1, 2, 3], events.Select(e => e.GetProperty("line").GetInt32()));
        Assert.Equal(["page_view", "purchase", "scroll"], events.Select(e => e.GetProperty("eventName").GetString()));

        Assert.Equal("full", Destination(events[0], "Meta").GetProperty("outcome").GetString());
        Assert.Equal("blocked", Destination(events[1], "Meta").GetProperty("outcome").GetString());
        Assert.Equal("gcd_update", ConsentType(events[1], "ad_storage").GetProperty("source").GetString());
        Assert.Equal("npa", ConsentType(events[2], "ad_personalization").GetProperty("source").GetString());
        Assert.Equal("meta_ldu", Destination(events[2], "Meta").GetProperty("restrictedForm").GetString());
    }

    [Fact]
    public async Task Post_raw_body_with_sec_gpc_header()
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "/consent/explain?region=US-CA&url=" + Uri.EscapeDataString("?v=2&gcs=G111&gcd=13v3v3v3v5"))
        {
            Content = new StringContent("en=page_view\nen=purchase", Encoding.UTF8, "text/plain"),
        };
        message.Headers.Add("Sec-GPC", "1");

        using var response = await Client.SendAsync(message);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("gpc").GetBoolean());
        foreach (var hit in json.RootElement.GetProperty("events").EnumerateArray())
        {
            Assert.Equal("other", hit.GetProperty("regionProfile").GetString());
            Assert.True(hit.GetProperty("signals").GetProperty("gpc").GetBoolean());
            Assert.Equal("gpc", ConsentType(hit, "ad_user_data").GetProperty("source").GetString());
            Assert.Equal("blocked", Destination(hit, "Meta").GetProperty("outcome").GetString());
            Assert.True(Destination(hit, "GoogleAds").GetProperty("mayUseIdentifiers").GetBoolean());
            Assert.False(Destination(hit, "GoogleAds").GetProperty("mayAttachUserData").GetBoolean());
        }
    }

    [Fact]
    public async Task Explicit_gpc_false_overrides_the_header()
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, "/consent/explain?gpc=0&region=US&url=" + Uri.EscapeDataString("gcd=13v3v3v3v5"));
        message.Headers.Add("Sec-GPC", "1");

        using var response = await Client.SendAsync(message);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.False(json.RootElement.GetProperty("gpc").GetBoolean());
        Assert.Equal("full", Destination(json.RootElement.GetProperty("events")[0], "Meta").GetProperty("outcome").GetString());
    }

    [Fact]
    public async Task Missing_url_is_a_bad_request()
    {
        using var response = await Client.GetAsync("/consent/explain?region=DE");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Contains("url", json.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_json_is_a_bad_request()
    {
        using var response = await Client.PostAsync("/consent/explain", new StringContent("{not json", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Oversized_body_is_refused()
    {
        var body = string.Join("\n", Enumerable.Repeat("en=page_view&ep.x=" + new string('a', 1000), 300));
        using var response = await Client.PostAsync("/consent/explain?url=v%3D2", new StringContent(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Malformed_signals_are_explained_not_rejected()
    {
        using var response = await Client.GetAsync("/consent/explain?region=US&url=" + Uri.EscapeDataString("?gcs=G1x1&gcd=13%ZZ"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var hit = json.RootElement.GetProperty("events")[0];
        Assert.Equal("malformed", hit.GetProperty("signals").GetProperty("gcsStatus").GetString());
        Assert.Equal("malformed", hit.GetProperty("signals").GetProperty("gcdStatus").GetString());
        Assert.Equal("unreadable", ConsentType(hit, "ad_storage").GetProperty("source").GetString());
        Assert.Equal("denied", ConsentType(hit, "ad_storage").GetProperty("effective").GetString());
    }

    [Fact]
    public async Task Explains_an_undocumented_letter_and_where_each_denial_came_from()
    {
        var url = Uri.EscapeDataString("?gcs=G100&gcd=13q3p3R3l5l1");
        using var response = await Client.GetAsync("/consent/explain?region=DE&url=" + url);

        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var hit = json.RootElement.GetProperty("events")[0];
        Assert.Equal("update", ConsentType(hit, "ad_storage").GetProperty("denial").GetString());
        Assert.Equal("default", ConsentType(hit, "analytics_storage").GetProperty("denial").GetString());
        Assert.Equal("region_default", ConsentType(hit, "ad_user_data").GetProperty("denial").GetString());
        Assert.Equal("R", ConsentType(hit, "ad_user_data").GetProperty("unknownGcdLetter").GetString());
        Assert.True(Destination(hit, "Meta").GetProperty("identifiersWithdrawn").GetBoolean());
        Assert.False(Destination(hit, "GoogleAnalytics").GetProperty("identifiersWithdrawn").GetBoolean());
    }

    private static JsonElement ConsentType(JsonElement hit, string type) =>
        hit.GetProperty("consent").EnumerateArray().Single(c => c.GetProperty("type").GetString() == type);

    private static JsonElement Destination(JsonElement hit, string name) =>
        hit.GetProperty("destinations").EnumerateArray().Single(d => d.GetProperty("name").GetString() == name);
}
