using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Polly;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Delivery;
using TagGateway.Capi.Delivery.Meta;
using TagGateway.Capi.Delivery.TikTok;
using TagGateway.Capi.Identity;
using TagGateway.Capi.Mapping;
using TagGateway.Capi.Model;

namespace TagGateway.Capi.Tests.Delivery;

/// <summary>One destination client against the fake: test codes from configuration, redacted debug payloads, error classes.</summary>
public sealed class DestinationClientTests : IAsyncLifetime
{
    private FakePlatforms _fake = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        _fake = await FakePlatforms.StartAsync();
        var services = new ServiceCollection();
        services.AddHttpClient(DestinationClient.HttpClientNameOf(CapiDestination.Meta), c => c.BaseAddress = new Uri(_fake.Url + "/"));
        services.AddHttpClient(DestinationClient.HttpClientNameOf(CapiDestination.TikTok), c => c.BaseAddress = new Uri(_fake.Url + "/"));
        _services = services.BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _fake.DisposeAsync();
    }

    private static CapiEvent Event(string id) => new()
    {
        Seq = 1,
        Name = "purchase",
        EventId = id,
        TimeMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        Destinations = 0b11,
        Consent = 0xFF,
        Identity = new IdentityData { Em = Sha256Hex.Hash("jane@example.com"), PhE164 = Sha256Hex.Hash("+16505551212"), Ip = "203.0.113.1", UserAgent = "UA" },
    };

    [Fact]
    public async Task Test_codes_come_from_configuration_and_debug_payload_logs_carry_no_token_and_no_identity_values()
    {
        var logs = new CapturingLogger<MetaClient>();
        var options = new MetaOptions { PixelId = FakePlatforms.MetaPixel, TestEventCode = "TEST4242" };
        var meta = new MetaClient(_services.GetRequiredService<IHttpClientFactory>(), options, FakePlatforms.MetaToken, new EventNameMap(new CapiOptions()), logs);
        var result = await meta.SendAsync([Event("R-1")], default);
        Assert.Equal(DeliveryOutcome.Delivered, result.Outcome);
        Assert.Equal("TEST4242", _fake.LastMetaTestCode);

        var logged = Assert.Single(logs.Messages);
        Assert.Contains("access_token [redacted]", logged, StringComparison.Ordinal);
        Assert.Contains("em", logged, StringComparison.Ordinal);
        Assert.DoesNotContain(FakePlatforms.MetaToken, logged, StringComparison.Ordinal);
        Assert.DoesNotContain(Sha256Hex.Hash("jane@example.com"), logged, StringComparison.Ordinal);
        Assert.DoesNotContain("203.0.113.1", logged, StringComparison.Ordinal);

        var tiktokOptions = new TikTokOptions { PixelCode = FakePlatforms.TikTokPixel, TestEventCode = "TT-TEST" };
        var tiktok = new TikTokClient(_services.GetRequiredService<IHttpClientFactory>(), tiktokOptions, FakePlatforms.TikTokToken, new EventNameMap(new CapiOptions()), new CapturingLogger<TikTokClient>());
        Assert.Equal(DeliveryOutcome.Delivered, (await tiktok.SendAsync([Event("R-2")], default)).Outcome);
        Assert.Equal("TT-TEST", _fake.LastTikTokTestCode);
    }

    [Fact]
    public async Task TikTok_errors_on_HTTP_200_are_failures_and_a_wrong_token_is_not_retryable()
    {
        var tiktok = new TikTokClient(_services.GetRequiredService<IHttpClientFactory>(), new TikTokOptions { PixelCode = FakePlatforms.TikTokPixel }, "wrong-token",
            new EventNameMap(new CapiOptions()), new CapturingLogger<TikTokClient>());
        var result = await tiktok.SendAsync([Event("R-3")], default);
        Assert.Equal(DeliveryOutcome.Fatal, result.Outcome);
        Assert.Contains("40105", result.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2, true)]
    [InlineData(4, true)]
    [InlineData(17, true)]
    [InlineData(341, true)]
    [InlineData(368, true)]
    [InlineData(190, false)]
    [InlineData(100, false)]
    [InlineData(200, false)]
    public void Meta_retries_only_its_documented_retryable_codes(int code, bool retryable)
    {
        var meta = new MetaClient(_services.GetRequiredService<IHttpClientFactory>(), new MetaOptions { PixelId = "1" }, "t", new EventNameMap(new CapiOptions()), new CapturingLogger<MetaClient>());
        var json = "{\"error\":{\"message\":\"m\",\"type\":\"OAuthException\",\"code\":" + code + ",\"fbtrace_id\":\"x\"}}";
        var body = System.Text.Encoding.UTF8.GetBytes(json);
        var kind = meta.Classify(System.Net.HttpStatusCode.BadRequest, body, out var error);
        Assert.Equal(retryable ? ResponseClass.Retryable : ResponseClass.Fatal, kind);
        Assert.Contains($"code {code}", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_retry_predicate_reads_a_2xx_body_only_where_the_platform_reports_errors_there()
    {
        var factory = _services.GetRequiredService<IHttpClientFactory>();
        var meta = new MetaClient(factory, new MetaOptions { PixelId = "1" }, "t", new EventNameMap(new CapiOptions()), new CapturingLogger<MetaClient>());
        var tiktok = new TikTokClient(factory, new TikTokOptions { PixelCode = "P" }, "t", new EventNameMap(new CapiOptions()), new CapturingLogger<TikTokClient>());

        // Meta's 2xx is a success as it stands: reading this body would throw.
        using var metaOk = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new UnreadableContent() };
        Assert.False(await DeliveryResilience.ShouldHandle(meta, Outcome.FromResult(metaOk)));

        using var metaDown = new HttpResponseMessage(System.Net.HttpStatusCode.ServiceUnavailable) { Content = new StringContent(string.Empty) };
        Assert.True(await DeliveryResilience.ShouldHandle(meta, Outcome.FromResult(metaDown)));

        // TikTok's rate limit arrives on HTTP 200; its success too.
        using var rateLimited = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StringContent("""{"code":40100,"message":"Too many requests"}""") };
        Assert.True(await DeliveryResilience.ShouldHandle(tiktok, Outcome.FromResult(rateLimited)));

        using var accepted = new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = new StringContent("""{"code":0,"message":"OK"}""") };
        Assert.False(await DeliveryResilience.ShouldHandle(tiktok, Outcome.FromResult(accepted)));

        // The predicate buffered the body: the sender still reads it afterwards.
        Assert.Contains("40100", await rateLimited.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private sealed class UnreadableContent : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
            throw new InvalidOperationException("a 2xx body was read");

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    private sealed class CapturingLogger<T> : ILogger<T>
    {
        public ConcurrentQueue<string> Messages { get; } = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Messages.Enqueue(formatter(state, exception));
    }
}
