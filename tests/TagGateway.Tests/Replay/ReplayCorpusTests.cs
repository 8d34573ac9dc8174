using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using TagGateway.Capi;
using TagGateway.Consent.Logging;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Replay;

/// <summary>
/// Request shapes captured from live sites behind Google tag gateway (live-shapes.json, each with its public source),
/// replayed through the real host in both modes against a loopback Google: every shape is forwarded where the mode
/// has an upstream for it, classified by protocol, decided on its consent signals, leaves a returning visitor's
/// identifiers as the rules say, and reaches the CAPI module exactly when it is a GA4 hit.
/// </summary>
public sealed class ReplayCorpusTests : IClassFixture<ReplayCorpusTests.Gateways>
{
    private const string Jar = "_ga=GA1.1.1234567890.1700000000; _ga_TESTA12345=GS2.1.s1700000000$o5$g1$t1700000100$j60$l0$h0; "
        + "_gcl_au=1.1.987654321.1700000000; _fbp=fb.1.1700000000000.123456789; FPID=FPID2.2.abcdefghijklmnop%3D%3D.1700000000";

    private static readonly string[] Identifiers = ["_ga", "_ga_TESTA12345", "_gcl_au", "_fbp", "FPID"];

    private readonly Gateways _gateways;

    public ReplayCorpusTests(Gateways gateways) => _gateways = gateways;

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var shape in Corpus.Shapes)
        {
            data.Add(shape.Name, "TagGateway");
            data.Add(shape.Name, "Direct");
        }

        return data;
    }

    [Fact]
    public void The_corpus_holds_at_least_forty_live_shapes_with_their_sources()
    {
        Assert.True(Corpus.Shapes.Count >= 40, $"{Corpus.Shapes.Count} shapes");
        Assert.All(Corpus.Shapes, s => Assert.False(string.IsNullOrWhiteSpace(s.Source), s.Name));
        Assert.Equal(Corpus.Shapes.Count, Corpus.Shapes.Select(s => s.Name).Distinct().Count());
        foreach (var path in new[] { "/ag/g/c", "/ga/g/c", "/g/collect", "/gs/ccm/collect", "/ccm/collect" })
        {
            Assert.Contains(Corpus.Shapes, s => s.Path == path);
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_live_request_shape_is_forwarded_classified_and_governed(string name, string mode)
    {
        var shape = Corpus.Shapes.Single(s => s.Name == name);
        var direct = mode == "Direct";
        var gateway = direct ? _gateways.Direct : _gateways.TagGateway;
        var marker = Guid.NewGuid().ToString("N");
        var routeTag = shape.Route == "hit" ? shape.Kind switch { "ga4" => "ga4_hit", "ads" => "ads_hit", _ => "hit" } : shape.Route;
        var before = await _gateways.RequestCountAsync(gateway, routeTag);
        var submittedBefore = gateway.Services.GetRequiredService<CapiHitSink>().Submitted;
        var acceptedBefore = await _gateways.CapiAcceptedAsync(gateway);
        _gateways.Recorded.Clear();

        using var request = new HttpRequestMessage(new HttpMethod(shape.Method), "/metrics" + shape.Path + (shape.Query.Length > 0 ? "?" + shape.Query : string.Empty));
        request.Headers.TryAddWithoutValidation("Cookie", Jar);
        request.Headers.TryAddWithoutValidation("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36");
        request.Headers.TryAddWithoutValidation("X-Replay-Case", marker);
        if (shape.Region is { } region)
        {
            var dash = region.IndexOf('-', StringComparison.Ordinal);
            request.Headers.TryAddWithoutValidation("CF-IPCountry", dash < 0 ? region : region[..dash]);
            if (dash > 0)
            {
                request.Headers.TryAddWithoutValidation("CF-Region-Code", region[(dash + 1)..]);
            }
        }

        if (shape.Body is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(shape.Body));
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "text/plain;charset=UTF-8");
        }
        else if (shape.Method == "POST")
        {
            request.Content = new ByteArrayContent([]);
        }

        using var response = await gateway.Public.SendAsync(request);
        var forwarded = _gateways.Upstream.Requests.Where(r => r.Header("X-Replay-Case") == marker).ToList();

        // Forwarded (or served, or answered by the gateway) where the mode has an upstream for it.
        var directHasNoUpstream = direct && shape.Route == "hit" && ExpectedUpstreamPath(shape, direct) is null;
        if (shape.Route == "health")
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Empty(forwarded);
        }
        else if (shape.Route == "script")
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        else if (directHasNoUpstream)
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Empty(forwarded);
        }
        else
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var upstream = Assert.Single(forwarded);
            Assert.Equal(ExpectedUpstreamPath(shape, direct), PathOf(upstream.PathAndQuery));
            Assert.Equal(WithoutUserData(shape.Query), WithoutUserData(QueryOf(upstream.PathAndQuery)));
            Assert.Equal(shape.Body ?? string.Empty, Encoding.UTF8.GetString(upstream.Body));
        }

        // Classified by protocol, whatever path it came by: the request counter of its kind moved.
        // (The counter moves once the response is complete on the server's side, a moment after the client has it.)
        if (!directHasNoUpstream)
        {
            var after = before;
            for (var i = 0; i < 40 && after == before; i++)
            {
                after = await _gateways.RequestCountAsync(gateway, routeTag);
                await Task.Delay(after == before ? 25 : 0);
            }

            Assert.Equal(before + 1, after);
        }

        // Consent decided on the hit's own signals (the audit log's view of the request).
        if (shape.Route == "hit" && shape.Kind != "other" && !directHasNoUpstream)
        {
            Assert.NotEmpty(_gateways.Recorded);
            var signals = _gateways.Recorded.First();
            foreach (var (type, expected) in shape.Consent)
            {
                Assert.True(expected == StateOf(signals.Get(ParseType(type))), $"{name}: {type} expected {expected}, decoded {StateOf(signals.Get(ParseType(type)))}");
            }
        }

        // A returning visitor's identifiers: re-issued, kept untouched, or expired only when the visitor said no.
        var setCookies = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToList() : [];
        if (!directHasNoUpstream)
        {
            AssertIdentifiers(name, shape.Route == "hit" ? shape.Kind : shape.Route, shape.Identifiers, setCookies);
        }

        // Every GA4 hit, whichever path it came by, is handed to the CAPI module; nothing else is.
        var expectedSubmissions = shape.Route == "hit" && shape.Kind == "ga4" ? 1 : 0;
        var sink = gateway.Services.GetRequiredService<CapiHitSink>();
        await Eventually(() => sink.Submitted - submittedBefore >= expectedSubmissions);
        Assert.Equal(expectedSubmissions, sink.Submitted - submittedBefore);
        if (shape.Capi)
        {
            var accepted = acceptedBefore;
            for (var i = 0; i < 100 && accepted <= acceptedBefore; i++)
            {
                await Task.Delay(50);
                accepted = await _gateways.CapiAcceptedAsync(gateway);
            }

            Assert.True(accepted > acceptedBefore, $"{name}: no CAPI event from a consented conversion");
        }
    }

    private static void AssertIdentifiers(string name, string kind, string expected, List<string> setCookies)
    {
        static bool Names(string header, string cookie) => header.StartsWith(cookie + "=", StringComparison.Ordinal);
        static bool Expires(string header) => header.Contains("Max-Age=0", StringComparison.OrdinalIgnoreCase)
            || header.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase);

        var touched = setCookies.Where(h => Identifiers.Any(c => Names(h, c))).ToList();
        if (kind == "ads" && expected == "keep")
        {
            // An Ads ping carries the page's consent too: it may refresh what consent allows, and must never destroy.
            Assert.True(!touched.Any(Expires), $"{name}: identifiers expired by an Ads ping: {string.Join(" | ", touched)}");
            return;
        }

        switch (expected)
        {
            case "expire":
                Assert.True(touched.Any(h => Names(h, "_ga") && Expires(h)), $"{name}: _ga not expired: {string.Join(" | ", setCookies)}");
                break;
            case "reissue":
                Assert.True(touched.Any(h => Names(h, "_ga") && !Expires(h)), $"{name}: _ga not re-issued: {string.Join(" | ", setCookies)}");
                Assert.DoesNotContain(touched, Expires);
                break;
            default:
                Assert.True(touched.Count == 0, $"{name}: identifiers touched though they must be kept: {string.Join(" | ", touched)}");
                break;
        }
    }

    /// <summary>Where the shape must arrive; null when Direct mode has no Google host for it (a GTG-only path).</summary>
    private static string? ExpectedUpstreamPath(Shape shape, bool direct)
    {
        if (!direct)
        {
            return "/metrics" + shape.Path;
        }

        if (shape.Route == "script")
        {
            return shape.Path.Length == 0 ? "/" : shape.Path;
        }

        if (shape.Kind == "ga4")
        {
            return "/g/collect";
        }

        foreach (var prefix in new[] { "/ccm/", "/pagead/", "/rmkt/", "/td/" })
        {
            var at = shape.Path.IndexOf(prefix, StringComparison.Ordinal);
            if (at >= 0)
            {
                return shape.Path[at..];
            }
        }

        return null;
    }

    private static string PathOf(string pathAndQuery) => pathAndQuery.Split('?', 2)[0];

    private static string QueryOf(string pathAndQuery) => pathAndQuery.Split('?', 2) is [_, var q] ? q : string.Empty;

    private static string WithoutUserData(string query) =>
        string.Join('&', query.Split('&').Where(p => p.Length > 0 && !p.StartsWith("em=", StringComparison.Ordinal)));

    private static ConsentType ParseType(string name) => name switch
    {
        "ad_storage" => ConsentType.AdStorage,
        "analytics_storage" => ConsentType.AnalyticsStorage,
        "ad_user_data" => ConsentType.AdUserData,
        _ => ConsentType.AdPersonalization,
    };

    /// <summary>What the hit itself says (gcd update, then default, and gcs): denied wins where they disagree.</summary>
    private static string StateOf(ConsentTypeSignal signal)
    {
        var gcd = signal.GcdEffective;
        var gcs = signal.Gcs;
        if (gcd == ConsentState.Denied || gcs == ConsentState.Denied)
        {
            return "denied";
        }

        return gcd == ConsentState.Granted || gcs == ConsentState.Granted ? "granted" : "not_set";
    }

    private static async Task Eventually(Func<bool> condition)
    {
        for (var i = 0; i < 40 && !condition(); i++)
        {
            await Task.Delay(25);
        }
    }

    internal sealed record Shape(string Name, string Source, string Method, string Path, string Query, string? Body, string? Region,
        string Route, string Kind, IReadOnlyDictionary<string, string> Consent, string Identifiers, bool Capi);

    private static class Corpus
    {
        public static readonly List<Shape> Shapes = Load();

        private static List<Shape> Load()
        {
            using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Replay", "live-shapes.json")));
            var shapes = new List<Shape>();
            foreach (var s in document.RootElement.GetProperty("shapes").EnumerateArray())
            {
                var expect = s.GetProperty("expect");
                var consent = new Dictionary<string, string>(StringComparer.Ordinal);
                if (expect.TryGetProperty("consent", out var c) && c.ValueKind == JsonValueKind.Object)
                {
                    foreach (var p in c.EnumerateObject())
                    {
                        consent[p.Name] = p.Value.GetString()!;
                    }
                }

                shapes.Add(new Shape(
                    s.GetProperty("name").GetString()!,
                    s.GetProperty("source").GetString()!,
                    s.GetProperty("method").GetString()!,
                    s.GetProperty("path").GetString()!,
                    s.GetProperty("query").GetString() ?? string.Empty,
                    s.GetProperty("body").ValueKind == JsonValueKind.String ? s.GetProperty("body").GetString() : null,
                    s.GetProperty("region").ValueKind == JsonValueKind.String ? s.GetProperty("region").GetString() : null,
                    expect.GetProperty("route").GetString()!,
                    expect.TryGetProperty("kind", out var k) ? k.GetString()! : "other",
                    consent,
                    expect.TryGetProperty("identifiers", out var i) ? i.GetString()! : "keep",
                    expect.TryGetProperty("capi", out var capi) && capi.GetBoolean()));
            }

            return shapes;
        }
    }

    /// <summary>One loopback Google, one fake Meta, and a gateway in each mode, shared by the corpus's cases.</summary>
    public sealed class Gateways : IAsyncLifetime
    {
        private readonly string _store = Path.Combine(Path.GetTempPath(), "tg-replay-" + Guid.NewGuid().ToString("N"));
        private FakeUpstream? _meta;

        public FakeUpstream Upstream { get; private set; } = null!;

        public GatewayInstance TagGateway { get; private set; } = null!;

        public GatewayInstance Direct { get; private set; } = null!;

        /// <summary>The URL-level signals of each decision the audit log was given, newest last.</summary>
        public ConcurrentQueue<ConsentSignals> Recorded { get; } = new();

        public async Task InitializeAsync()
        {
            // Google answers scripts and hits alike with a small cacheable body here; the gateway decides which is which.
            Upstream = await FakeUpstream.StartAsync(static (context, _) =>
            {
                context.Response.ContentType = "application/javascript";
                context.Response.Headers.CacheControl = "private, max-age=900";
                return context.Response.WriteAsync("/* tag */ var t = 1;");
            });
            _meta = await FakeUpstream.StartAsync(static (context, _) => context.Response.WriteAsync("""{"events_received":1}"""));
            TagGateway = await StartAsync("TagGateway", "tg");
            Direct = await StartAsync("Direct", "direct");
        }

        private Task<GatewayInstance> StartAsync(string mode, string store)
        {
            var ids = ScriptIds();
            var settings = GatewayInstance.Settings(Upstream.Origin, ids);
            for (var i = 0; i < ids.Length; i++)
            {
                settings[$"Gateway:TagIds:{i}"] = ids[i];
            }

            settings["Gateway:Mode"] = mode;
            settings["Gateway:ClientIdentity:Edge"] = "Cloudflare";
            settings["Gateway:Scripts:MaxMissesPerSecond"] = "1000";
            settings["Capi:Meta:PixelId"] = "1234567890";
            settings["Capi:Meta:AccessToken"] = "replay-token";
            settings["Capi:Meta:BaseUrl"] = _meta!.Origin.ToString().TrimEnd('/');
            settings["Capi:Store:Path"] = Path.Combine(_store, store);
            settings["Capi:MergeWindow"] = "00:00:00";
            return GatewayInstance.StartAsync(settings, services: s => s.AddSingleton<IConsentRecorder>(new CapturingRecorder(Recorded)));
        }

        /// <summary>Every tag ID the corpus loads scripts for is this site's.</summary>
        private static string[] ScriptIds()
        {
            var ids = new List<string>();
            foreach (var shape in Corpus.Shapes.Where(s => s.Route == "script"))
            {
                foreach (var pair in shape.Query.Split('&'))
                {
                    if (pair.StartsWith("id=", StringComparison.Ordinal) && !ids.Contains(pair[3..]))
                    {
                        ids.Add(pair[3..]);
                    }
                }
            }

            // The first ID names the fps.goog host; a G- tag keeps it like Cloudflare's measurementId.
            return [.. ids.OrderBy(static id => id.StartsWith("G-", StringComparison.Ordinal) ? 0 : 1)];
        }

        public async Task<long> RequestCountAsync(GatewayInstance gateway, string route) =>
            SumOf(await gateway.Management.GetStringAsync("/metrics"), $"taggateway_requests_total{{route=\"{route}\",");

        /// <summary>Events the CAPI module took from hits: stored, or merged into (or deduplicated against) a twin
        /// from another shape of the same capture, which shares its transaction.</summary>
        public async Task<long> CapiAcceptedAsync(GatewayInstance gateway)
        {
            var metrics = await gateway.Management.GetStringAsync("/metrics");
            return SumOf(metrics, "taggateway_capi_events_accepted_total{origin=\"hit\"")
                + SumOf(metrics, "taggateway_capi_events_merged_total")
                + SumOf(metrics, "taggateway_capi_events_duplicates_total");
        }

        private static long SumOf(string metrics, string prefix) => metrics.Split('\n')
            .Where(line => line.StartsWith(prefix, StringComparison.Ordinal))
            .Sum(line => long.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));

        public async Task DisposeAsync()
        {
            await TagGateway.DisposeAsync();
            await Direct.DisposeAsync();
            await Upstream.DisposeAsync();
            await _meta!.DisposeAsync();
            try
            {
                Directory.Delete(_store, recursive: true);
            }
            catch (DirectoryNotFoundException)
            {
            }
        }
    }

    private sealed class CapturingRecorder(ConcurrentQueue<ConsentSignals> recorded) : IConsentRecorder
    {
        public void Record(in ConsentDecision decision, ConsentContext context) => recorded.Enqueue(decision.Signals);
    }
}
