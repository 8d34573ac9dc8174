using System.Net;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Observability;
using TagGateway.Capi.Tests.Infrastructure;

namespace TagGateway.Capi.Tests.Ingest;

public sealed class IngestTests : IAsyncLifetime
{
    private FakePlatforms _fake = null!;
    private CapiGateway _gateway = null!;
    private readonly string _store = TestKeys.TempStore();

    public async Task InitializeAsync()
    {
        _fake = await FakePlatforms.StartAsync();
        var settings = _fake.CapiSettings(_store, tiktok: false, linkedIn: false, google: false);
        settings["Capi:Ingest:MaxRequestBytes"] = "4096";
        settings["Capi:Ingest:MaxEventsPerRequest"] = "5";
        settings["Capi:Ingest:ApiKeys:1"] = "second-ingest-key-abcdefghijklmnop";
        settings["Logging:LogLevel:TagGateway.Capi"] = "Information";
        _gateway = await CapiGateway.StartAsync(_fake, settings);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _fake.DisposeAsync();
        Directory.Delete(_store, recursive: true);
    }

    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    private static string One => $$"""{"events":[{"event_name":"generate_lead","event_id":"L1","event_time":{{Now}},"page_url":"https://shop.example/form","user":{"email":"a@b.example","user_agent":"UA"},"consent":{"ad_storage":"granted","ad_user_data":"granted"},"region":"US"}]}""";

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key-wrong-key-wrong-key-000")]
    [InlineData("test-ingest-key-0123456789abcdeF")] // one character off
    public async Task Without_a_valid_key_the_answer_is_401(string? key)
    {
        using var response = await CapiGateway.PostEventsAsync(_gateway.Public, One, key);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Unauthenticated_requests_are_all_counted_but_logged_once_a_minute()
    {
        var metrics = _gateway.Services.GetRequiredService<CapiMetrics>();
        using var unauthorized = new MetricCollector<long>(metrics.Meter, "taggateway.capi.ingest.unauthorized");
        for (var i = 0; i < 30; i++)
        {
            using var response = await CapiGateway.PostEventsAsync(_gateway.Public, One, key: i % 2 == 0 ? null : "wrong-key-wrong-key-wrong-key-000");
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        Assert.Equal(30, unauthorized.GetMeasurementSnapshot().Sum(static m => m.Value));
        Assert.Single(_gateway.Logs.GetSnapshot(), static r => r.Id.Id == 5201);
    }

    [Fact]
    public async Task An_oversized_chunked_body_is_413_logged_as_information_not_as_an_unhandled_error()
    {
        var big = Encoding.UTF8.GetBytes("{\"events\":[{\"event_name\":\"purchase\",\"page_url\":\"" + new string('x', 256 * 1024) + "\"}]}");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/capi/v1/events") { Content = new StreamContent(new MemoryStream(big)) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.TransferEncodingChunked = true; // no Content-Length: only reading finds the size
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + TestKeys.ApiKey);
        using var response = await _gateway.Public.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await Task.Delay(200);
        var logs = _gateway.Logs.GetSnapshot();
        Assert.DoesNotContain(logs, static r => r.Level >= LogLevel.Error);
        Assert.Contains(logs, static r => r.Id.Id == 5203 && r.Level == LogLevel.Information);
    }

    [Theory]
    [InlineData("\"event_id\":\"V1\",\"event_time\":300000000000000,\"page_url\":\"https://x.example/\",\"user\":{\"user_agent\":\"UA\"}", "events[1].event_time 300000000000000 is in the future")]
    [InlineData("\"event_id\":\"V1\",\"event_time\":{old},\"page_url\":\"https://x.example/\",\"user\":{\"user_agent\":\"UA\"}", "events[1].event_time {old} is older than 7 days")]
    [InlineData("\"event_id\":\"V1\",\"page_url\":\"https://x.example/\",\"user\":{\"user_agent\":\"UA\"}", "events[1].event_time is required")]
    [InlineData("\"event_time\":{now},\"page_url\":\"https://x.example/\",\"user\":{\"user_agent\":\"UA\"}", "events[1].event_id is required")]
    [InlineData("\"event_id\":\"V1\",\"event_time\":{now},\"action_source\":\"webpage\"", "events[1].action_source \\u0022webpage\\u0022 is not one of")]
    [InlineData("\"event_id\":\"V1\",\"event_time\":{now},\"page_url\":\"https://x.example/\",\"user\":{\"email\":\"a@b.example\"}", "events[1].user.user_agent is required for a website event")]
    [InlineData("\"event_id\":\"V1\",\"event_time\":{now},\"user\":{\"user_agent\":\"UA\"}", "events[1].page_url is required for a website event")]
    public async Task What_platforms_require_is_checked_at_ingest_with_a_400_naming_the_field_and_index(string fields, string expected)
    {
        var now = Now.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var old = (Now - (8 * 86400)).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var good = "{\"event_name\":\"generate_lead\",\"event_id\":\"V0\",\"event_time\":" + now + ",\"page_url\":\"https://x.example/\",\"user\":{\"user_agent\":\"UA\"}}";
        var bad = fields.Replace("{now}", now, StringComparison.Ordinal).Replace("{old}", old, StringComparison.Ordinal);
        var body = "{\"events\":[" + good + ",{\"event_name\":\"generate_lead\"," + bad + "}]}";
        using var response = await CapiGateway.PostEventsAsync(_gateway.Public, body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected.Replace("{old}", old, StringComparison.Ordinal), await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(0, (await _gateway.GetJsonAsync("/capi/store")).GetProperty("events").GetInt32());
    }

    [Theory]
    [InlineData("""{"event_name":"purchase","transaction_id":"T-9","event_time":{now},"page_url":"https://x.example/","user":{"user_agent":"UA"}}""")] // a purchase's transaction id is its stable id
    [InlineData("""{"event_name":"generate_lead","event_id":"O-1","event_time":{now},"action_source":"physical_store"}""")] // not a website event
    [InlineData("""{"event_name":"generate_lead","event_id":"O-2","event_time":{ms},"action_source":"Phone_Call"}""")] // milliseconds, any case
    public async Task Events_that_meet_the_requirements_are_accepted(string evt)
    {
        var body = "{\"events\":[" + evt.Replace("{now}", Now.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{ms}", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal) + "]}";
        using var response = await CapiGateway.PostEventsAsync(_gateway.Public, body);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task X_Api_Key_and_a_second_configured_key_are_accepted()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/capi/v1/events") { Content = new StringContent(One, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("X-Api-Key", "second-ingest-key-abcdefghijklmnop");
        using var response = await _gateway.Public.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Contains("\"accepted\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"events":[{"event_name":"purchase",}]}""", "Malformed JSON")]
    [InlineData("""{"events":[]}""", "at least one event")]
    [InlineData("""{"events":[{"event_id":"x"}]}""", "events[0].event_name is required")]
    [InlineData("""{"events":[{"event_name":"purchase","event_id":"c","event_time":{now},"page_url":"https://x.example/","user":{"user_agent":"UA"},"currency":"euro"}]}""", "events[0].currency")]
    public async Task A_malformed_body_is_400_with_a_clear_error(string body, string expected)
    {
        using var response = await CapiGateway.PostEventsAsync(_gateway.Public, body.Replace("{now}", Now.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Over_the_bound_is_413()
    {
        var big = "{\"events\":[{\"event_name\":\"purchase\",\"page_url\":\"" + new string('x', 5000) + "\"}]}";
        using var tooBig = await CapiGateway.PostEventsAsync(_gateway.Public, big);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);

        var many = "{\"events\":[" + string.Join(',', Enumerable.Repeat("{\"event_name\":\"purchase\"}", 6)) + "]}";
        using var tooMany = await CapiGateway.PostEventsAsync(_gateway.Public, many);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooMany.StatusCode);
    }

    [Fact]
    public async Task The_ingest_endpoint_is_not_on_the_management_listener_and_management_is_not_public()
    {
        using var onManagement = await CapiGateway.PostEventsAsync(_gateway.Management, One);
        Assert.Equal(HttpStatusCode.NotFound, onManagement.StatusCode);
        using var report = await _gateway.Public.GetAsync("/capi/match-quality");
        Assert.Equal(HttpStatusCode.NotFound, report.StatusCode);
    }

    [Fact]
    public async Task An_unmapped_event_is_answered_not_sent()
    {
        using var response = await CapiGateway.PostEventsAsync(_gateway.Public,
            $$"""{"events":[{"event_name":"scroll","event_id":"S1","event_time":{{Now}},"consent":{"ad_storage":"granted"},"region":"US"}]}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Contains("\"not_sent\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}

public sealed class RegistrationTests
{
    [Fact]
    public void With_no_destination_the_module_registers_nothing_that_runs()
    {
        var services = new ServiceCollection();
        var store = TestKeys.TempStore();
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Capi:Store:Path"] = store }).Build();
        services.AddTagGatewayCapi(configuration);
        Assert.Single(services);
        using var provider = services.BuildServiceProvider();
        Assert.False(provider.GetRequiredService<CapiHitSink>().IsEnabled);
        Assert.False(Directory.Exists(store));
    }

    [Fact]
    public void A_destination_without_a_token_fails_validation_listing_every_error()
    {
        var services = new ServiceCollection();
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Capi:Meta:PixelId"] = "123",
            ["Capi:LinkedIn:Conversions:purchase"] = "not-a-urn",
            ["Capi:LinkedIn:AccessToken"] = "t",
            ["Capi:Ingest:ApiKeys:0"] = "short",
            ["Capi:Meta:MaxBatchSize"] = "5000",
        }).Build();
        services.AddTagGatewayCapi(configuration);
        using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<CapiOptions>>().Value);
        var all = string.Join('\n', ex.Failures);
        Assert.Contains("Capi:Meta: an access token is required", all, StringComparison.Ordinal);
        Assert.Contains("Capi:LinkedIn:Conversions:purchase", all, StringComparison.Ordinal);
        Assert.Contains("Capi:Ingest:ApiKeys", all, StringComparison.Ordinal);
        Assert.Contains("over the platform's limit of 1000", all, StringComparison.Ordinal);
    }

    [Fact]
    public void A_token_file_is_read_and_trimmed()
    {
        var file = Path.GetTempFileName();
        File.WriteAllText(file, "  secret-from-file \n");
        try
        {
            Assert.Equal("secret-from-file", SecretReader.AccessToken(new MetaOptions { AccessTokenFile = file }, "Meta"));
        }
        finally
        {
            File.Delete(file);
        }
    }
}
