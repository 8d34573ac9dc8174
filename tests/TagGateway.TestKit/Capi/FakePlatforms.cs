using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using TagGateway.TestKit.Loopback;

namespace TagGateway.TestKit.Capi;

/// <summary>What a fake platform received: one row per event, with the event's JSON as sent.</summary>
public sealed record ReceivedEvent(string Platform, string EventName, string EventId, JsonElement Json);

/// <summary>
/// Meta, TikTok, LinkedIn and Google (Data Manager API and the GA4 collect endpoint) as one real Kestrel server on
/// 127.0.0.1:0. Each validates method, path, headers, auth and payload shape the way the platform documents
/// (conversion-apis.md), answers as the platform does (Graph error envelopes, TikTok's code on HTTP 200, LinkedIn's
/// per-element statuses), and records what it accepted. Failure modes are switched on per platform by the tests.
/// </summary>
public sealed partial class FakePlatforms : LoopbackServer
{
    public const string MetaPixel = "1234567890";
    public const string MetaToken = "meta-token-0123456789";
    public const string TikTokPixel = "CTESTPIXEL01";
    public const string TikTokToken = "tiktok-token-0123456789";
    public const string LinkedInToken = "linkedin-token-0123456789";
    public const string GoogleToken = "google-token-0123456789";
    public const string GoogleCustomer = "1112223333";
    public const string GoogleClientId = "fake-client-id.apps.googleusercontent.com";
    public const string GoogleClientSecret = "fake-client-secret-GOCSPX-0123456789";
    public const string GoogleRefreshToken = "1//fake-refresh-token-0123456789";

    private static readonly HashSet<string> MetaHashedKeys = ["em", "ph", "fn", "ln", "db", "ge", "ct", "st", "zp", "country", "external_id"];
    private static readonly HashSet<string> MetaPlainKeys = ["client_ip_address", "client_user_agent", "fbc", "fbp"];

    private readonly ConcurrentQueue<ReceivedEvent> _events = new();
    private readonly ConcurrentDictionary<string, int> _requests = new();
    private readonly ConcurrentDictionary<string, int> _failuresLeft = new();
    private readonly ConcurrentQueue<string> _rejections = new();
    private readonly ConcurrentDictionary<string, string> _redirects = new();
    private readonly ConcurrentDictionary<string, bool> _googleAccessTokens = new();
    private readonly ConcurrentQueue<string> _googleTokensSeen = new();
    private int _tokenRequests;
    private int _googleUnauthorized;

    private FakePlatforms()
    {
    }

    public IReadOnlyCollection<ReceivedEvent> Events => [.. _events];

    /// <summary>Why the fakes refused payloads (a test asserting success also asserts this is empty).</summary>
    public IReadOnlyCollection<string> Rejections => [.. _rejections];

    public int GaHits => Requests("ga4");

    /// <summary>Meta answers code 190 (token expired) until switched off.</summary>
    public bool MetaTokenExpired { get; set; }

    /// <summary>Artificial latency before each platform answer, so a kill can land mid-delivery.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>The test_event_code of the last Meta and TikTok requests.</summary>
    public string? LastMetaTestCode { get; private set; }

    public string? LastTikTokTestCode { get; private set; }

    /// <summary>Every later request to <paramref name="platform"/> ("meta", "tiktok", "linkedin", "google", "token") is answered 307 to <paramref name="location"/>.</summary>
    public void RedirectTo(string platform, string location) => _redirects[platform] = location;

    /// <summary>An event whose event id (Google: transaction id) is this is refused, and with it its whole request (Meta, TikTok, Google) or its element (LinkedIn).</summary>
    public string? PoisonEventId { get; set; }

    /// <summary>The token endpoint answers 400 invalid_grant (the refresh token was revoked).</summary>
    public bool RefuseRefresh { get; set; }

    /// <summary>expires_in of the access tokens the token endpoint mints.</summary>
    public int AccessTokenLifetimeSeconds { get; set; } = 3599;

    public int TokenRequests => Volatile.Read(ref _tokenRequests);

    public int GoogleUnauthorized => Volatile.Read(ref _googleUnauthorized);

    /// <summary>The bearer tokens the Data Manager fake saw, in order.</summary>
    public IReadOnlyCollection<string> GoogleTokensSeen => [.. _googleTokensSeen];

    /// <summary>Google expires (or revokes) every access token minted so far: using one is a 401.</summary>
    public void ExpireGoogleAccessTokens()
    {
        foreach (var token in _googleAccessTokens.Keys)
        {
            _googleAccessTokens[token] = false;
        }
    }

    public int Requests(string platform) => _requests.TryGetValue(platform, out var n) ? n : 0;

    public IEnumerable<ReceivedEvent> For(string platform) => Events.Where(e => e.Platform == platform);

    /// <summary>The next <paramref name="count"/> requests to <paramref name="platform"/> are answered 503 and not recorded.</summary>
    public void FailNext(string platform, int count) => _failuresLeft[platform] = count;

    public static Task<FakePlatforms> StartAsync() => ListenAsync(new FakePlatforms());

    protected override void Map(WebApplication app)
    {
        app.MapPost("/{version}/{pixel}/events", MetaAsync);
        app.MapPost("/open_api/v1.3/event/track/", (Delegate)TikTokAsync);
        app.MapPost("/rest/conversionEvents", (Delegate)LinkedInAsync);
        app.MapPost("/v1/events:ingest", (Delegate)GoogleAsync);
        app.MapPost("/token", (Delegate)TokenAsync);
        app.Map("/{**rest}", (HttpContext context) =>
        {
            // Google's side of the gateway: every forwarded collect hit is a 204, scripts a tiny body.
            if (context.Request.Path.Value!.EndsWith("/g/collect", StringComparison.Ordinal))
            {
                _requests.AddOrUpdate("ga4", 1, static (_, n) => n + 1);
                return Results.StatusCode(204);
            }

            return Results.Text("/* script */", "application/javascript");
        });
    }

    /// <summary>Configuration pointing every destination at this fake (Capi:…), with short delivery timings for tests.</summary>
    public Dictionary<string, string?> CapiSettings(string storePath, bool meta = true, bool tiktok = true, bool linkedIn = true, bool google = true) =>
        AllSettings(storePath, meta, tiktok, linkedIn, google).Where(static kv => kv.Value is not null).ToDictionary();

    private Dictionary<string, string?> AllSettings(string storePath, bool meta, bool tiktok, bool linkedIn, bool google) => new()
    {
        ["Capi:Store:Path"] = storePath,
        ["Capi:MergeWindow"] = "00:00:00.300",
        ["Capi:Ingest:ApiKeys:0"] = TestKeys.ApiKey,
        ["Capi:Delivery:MinBackoff"] = "00:00:00.200",
        ["Capi:Delivery:MaxBackoff"] = "00:00:01",
        ["Capi:Delivery:RetryBaseDelay"] = "00:00:00.050",
        ["Capi:Delivery:RetryAttempts"] = "1",
        ["Capi:Delivery:BreakerBreakDuration"] = "00:00:00.500",
        ["Capi:Delivery:PollInterval"] = "00:00:00.100",
        ["Capi:Meta:BaseUrl"] = Url,
        ["Capi:Meta:PixelId"] = meta ? MetaPixel : null,
        ["Capi:Meta:AccessToken"] = MetaToken,
        ["Capi:TikTok:BaseUrl"] = Url,
        ["Capi:TikTok:PixelCode"] = tiktok ? TikTokPixel : null,
        ["Capi:TikTok:AccessToken"] = TikTokToken,
        ["Capi:LinkedIn:BaseUrl"] = Url,
        ["Capi:LinkedIn:AccessToken"] = LinkedInToken,
        ["Capi:LinkedIn:Conversions:purchase"] = linkedIn ? "urn:lla:llaPartnerConversion:111" : null,
        ["Capi:LinkedIn:Conversions:generate_lead"] = linkedIn ? "urn:lla:llaPartnerConversion:222" : null,
        ["Capi:GoogleAds:BaseUrl"] = Url,
        ["Capi:GoogleAds:AccessToken"] = GoogleToken,
        ["Capi:GoogleAds:CustomerId"] = google ? GoogleCustomer : null,
        ["Capi:GoogleAds:ConversionActions:purchase"] = google ? "987654" : null,
    };

    private IResult? Redirected(string platform) =>
        _redirects.TryGetValue(platform, out var location) ? Results.Redirect(location, permanent: false, preserveMethod: true) : null;

    private bool Failing(string platform)
    {
        _requests.AddOrUpdate(platform, 1, static (_, n) => n + 1);
        while (_failuresLeft.TryGetValue(platform, out var left) && left > 0)
        {
            if (_failuresLeft.TryUpdate(platform, left - 1, left))
            {
                return true;
            }
        }

        return false;
    }

    private async Task<JsonDocument?> ReadJsonAsync(HttpContext context, string platform)
    {
        if (context.Request.ContentType?.StartsWith("application/json", StringComparison.Ordinal) != true)
        {
            Reject(platform, "content type " + context.Request.ContentType);
            return null;
        }

        try
        {
            return await JsonDocument.ParseAsync(context.Request.Body);
        }
        catch (JsonException ex)
        {
            Reject(platform, "malformed JSON: " + ex.Message);
            return null;
        }
    }

    private string? Reject(string platform, string why)
    {
        _rejections.Enqueue($"{platform}: {why}");
        return why;
    }

    private async Task<IResult> MetaAsync(HttpContext context, string version, string pixel)
    {
        await Task.Delay(Latency);
        if (Redirected("meta") is { } redirect)
        {
            _requests.AddOrUpdate("meta", 1, static (_, n) => n + 1);
            return redirect;
        }

        if (Failing("meta"))
        {
            return Results.Json(MetaError(2, "Service temporarily unavailable", transient: true), statusCode: 503);
        }

        using var doc = await ReadJsonAsync(context, "meta");
        if (doc is null)
        {
            return Results.Json(MetaError(100, "Invalid parameter"), statusCode: 400);
        }

        var root = doc.RootElement;
        LastMetaTestCode = root.TryGetProperty("test_event_code", out var code) ? code.GetString() : null;
        var token = root.TryGetProperty("access_token", out var t) ? t.GetString() : context.Request.Query["access_token"].ToString();
        if (MetaTokenExpired)
        {
            return Results.Json(MetaError(190, "Error validating access token: Session has expired", subcode: 463), statusCode: 401);
        }

        if (token != MetaToken)
        {
            Reject("meta", "bad token");
            return Results.Json(MetaError(190, "Invalid OAuth access token"), statusCode: 401);
        }

        if (!VersionPattern().IsMatch(version) || pixel != MetaPixel)
        {
            return Results.Json(MetaError(100, $"Unknown path {version}/{pixel}"), statusCode: 400);
        }

        if (!root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array || data.GetArrayLength() is 0 or > 1000)
        {
            return Results.Json(MetaError(100, Reject("meta", "data must hold 1-1000 events")!), statusCode: 400);
        }

        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var accepted = new List<ReceivedEvent>();
        foreach (var e in data.EnumerateArray())
        {
            var problem = MetaEventProblem(e, now) ?? Poisoned(e, "event_id");
            if (problem is not null)
            {
                // Meta fails the whole request for one bad event (§1.4).
                return Results.Json(MetaError(100, Reject("meta", problem)!), statusCode: 400);
            }

            accepted.Add(new ReceivedEvent("meta", e.GetProperty("event_name").GetString()!, e.GetProperty("event_id").GetString()!, e.Clone()));
        }

        foreach (var e in accepted)
        {
            _events.Enqueue(e);
        }

        return Results.Json(new Dictionary<string, object> { ["events_received"] = accepted.Count, ["messages"] = Array.Empty<string>(), ["fbtrace_id"] = "AbCdEf" });
    }

    private static string? MetaEventProblem(JsonElement e, long now)
    {
        if (!e.TryGetProperty("event_name", out var name) || name.ValueKind != JsonValueKind.String)
        {
            return "event_name missing";
        }

        if (!e.TryGetProperty("event_time", out var time) || time.ValueKind != JsonValueKind.Number || !time.TryGetInt64(out var seconds))
        {
            return "event_time must be integer Unix seconds";
        }

        if (seconds < now - (7 * 86400))
        {
            return "event_time is more than 7 days old";
        }

        if (seconds > now + 600)
        {
            return "event_time is in the future (milliseconds sent?)";
        }

        if (!e.TryGetProperty("event_id", out var id) || id.ValueKind != JsonValueKind.String)
        {
            return "event_id missing";
        }

        var source = e.TryGetProperty("action_source", out var s) ? s.GetString() ?? string.Empty : string.Empty;
        if (source is not ("website" or "email" or "app" or "phone_call" or "chat" or "physical_store" or "system_generated" or "business_messaging" or "other"))
        {
            return "action_source invalid: " + source;
        }

        if (!e.TryGetProperty("user_data", out var user) || user.ValueKind != JsonValueKind.Object)
        {
            return "user_data missing";
        }

        var any = false;
        foreach (var p in user.EnumerateObject())
        {
            any = true;
            if (MetaHashedKeys.Contains(p.Name))
            {
                if (p.Value.ValueKind != JsonValueKind.String || !TestKeys.IsSha256Hex(p.Value.GetString()!))
                {
                    return $"user_data.{p.Name} must be a SHA-256 hex digest";
                }
            }
            else if (!MetaPlainKeys.Contains(p.Name))
            {
                return $"user_data.{p.Name} is not a user_data key";
            }
            else if (p.Name is "fbc" or "fbp" && !p.Value.GetString()!.StartsWith("fb.", StringComparison.Ordinal))
            {
                return $"user_data.{p.Name} is not fb.<i>.<ms>.<value>";
            }
        }

        if (any && source == "website" && !user.TryGetProperty("client_user_agent", out _))
        {
            return "client_user_agent is required for website events";
        }

        if (e.TryGetProperty("data_processing_options", out var dpo) && (dpo.ValueKind != JsonValueKind.Array || dpo.EnumerateArray().Any(static v => v.GetString() != "LDU")))
        {
            return "data_processing_options must be [] or [\"LDU\"]";
        }

        return null;
    }

    private async Task<IResult> TikTokAsync(HttpContext context)
    {
        await Task.Delay(Latency);
        if (Redirected("tiktok") is { } redirect)
        {
            _requests.AddOrUpdate("tiktok", 1, static (_, n) => n + 1);
            return redirect;
        }

        if (Failing("tiktok"))
        {
            return Results.StatusCode(503);
        }

        if (context.Request.Headers["Access-Token"].ToString() != TikTokToken)
        {
            Reject("tiktok", "bad Access-Token");
            return Results.Json(new { code = 40105, message = "Access token is incorrect or has been revoked", request_id = "r" });
        }

        using var doc = await ReadJsonAsync(context, "tiktok");
        if (doc is null)
        {
            return Results.Json(new { code = 40002, message = "invalid JSON", request_id = "r" });
        }

        var root = doc.RootElement;
        LastTikTokTestCode = root.TryGetProperty("test_event_code", out var code) ? code.GetString() : null;
        var problem =
            root.GetProperty("event_source").GetString() != "web" ? "event_source must be web"
            : root.GetProperty("event_source_id").GetString() != TikTokPixel ? "event_source_id is not the pixel"
            : root.GetProperty("data").GetArrayLength() is 0 or > 1000 ? "data must hold 1-1000 events"
            : null;
        var accepted = new List<ReceivedEvent>();
        foreach (var e in root.GetProperty("data").EnumerateArray())
        {
            problem ??= !e.TryGetProperty("event", out var name) || name.GetString() is not { Length: > 0 } ? "event missing"
                : !e.TryGetProperty("event_time", out var time) || !time.TryGetInt64(out var s) || s > DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 600 ? "event_time must be Unix seconds"
                : !e.TryGetProperty("event_id", out var id) || id.ValueKind != JsonValueKind.String ? "event_id missing"
                : e.TryGetProperty("user", out var user) ? TikTokUserProblem(user) ?? Poisoned(e, "event_id") : Poisoned(e, "event_id");
            if (problem is null)
            {
                accepted.Add(new ReceivedEvent("tiktok", e.GetProperty("event").GetString()!, e.GetProperty("event_id").GetString()!, e.Clone()));
            }
        }

        if (problem is not null)
        {
            Reject("tiktok", problem);
            return Results.Json(new { code = 40002, message = problem, request_id = "r" });
        }

        foreach (var e in accepted)
        {
            _events.Enqueue(e);
        }

        return Results.Json(new { code = 0, message = "OK", request_id = "r", data = new { } });
    }

    private static string? TikTokUserProblem(JsonElement user)
    {
        foreach (var key in (string[])["email", "phone", "external_id"])
        {
            if (user.TryGetProperty(key, out var v) && !TestKeys.IsSha256Hex(v.GetString() ?? string.Empty))
            {
                return $"user.{key} must be SHA-256 hex";
            }
        }

        return null;
    }

    private async Task<IResult> LinkedInAsync(HttpContext context)
    {
        await Task.Delay(Latency);
        if (Redirected("linkedin") is { } redirect)
        {
            _requests.AddOrUpdate("linkedin", 1, static (_, n) => n + 1);
            return redirect;
        }

        if (Failing("linkedin"))
        {
            return Results.StatusCode(503);
        }

        var h = context.Request.Headers;
        if (h.Authorization.ToString() != "Bearer " + LinkedInToken)
        {
            Reject("linkedin", "bad bearer token");
            return Results.Json(new { status = 401, code = "INVALID_ACCESS_TOKEN", message = "Invalid access token" }, statusCode: 401);
        }

        if (!Regex.IsMatch(h["LinkedIn-Version"].ToString(), "^20[0-9]{4}$") || h["X-Restli-Protocol-Version"].ToString() != "2.0.0" || h["X-RestLi-Method"].ToString() != "BATCH_CREATE")
        {
            Reject("linkedin", "missing LinkedIn-Version / Rest.li headers");
            return Results.Json(new { status = 400, message = "Missing headers" }, statusCode: 400);
        }

        using var doc = await ReadJsonAsync(context, "linkedin");
        if (doc is null || !doc.RootElement.TryGetProperty("elements", out var elements) || elements.GetArrayLength() is 0 or > 5000)
        {
            return Results.Json(new { status = 400, message = "elements must hold 1-5000 events" }, statusCode: 400);
        }

        var statuses = new List<object>();
        foreach (var e in elements.EnumerateArray())
        {
            var problem =
                !(e.GetProperty("conversion").GetString() ?? string.Empty).StartsWith("urn:lla:llaPartnerConversion:", StringComparison.Ordinal) ? "conversion must be a rule URN"
                : !e.TryGetProperty("conversionHappenedAt", out var at) || !at.TryGetInt64(out var ms) || ms < 1_000_000_000_000 ? "conversionHappenedAt must be epoch milliseconds"
                : !e.TryGetProperty("user", out var user) || !user.TryGetProperty("userIds", out var ids) || ids.ValueKind != JsonValueKind.Array ? "user.userIds is required"
                : ids.EnumerateArray().Any(static i => i.GetProperty("idType").GetString() == "SHA256_EMAIL" && !TestKeys.IsSha256Hex(i.GetProperty("idValue").GetString()!)) ? "SHA256_EMAIL must be hex"
                : e.TryGetProperty("conversionValue", out var value) && value.GetProperty("amount").ValueKind != JsonValueKind.String ? "conversionValue.amount must be a string"
                : null;
            if (problem is null)
            {
                _events.Enqueue(new ReceivedEvent("linkedin", e.GetProperty("conversion").GetString()!, e.GetProperty("eventId").GetString()!, e.Clone()));
                statuses.Add(new { status = 201 });
            }
            else
            {
                Reject("linkedin", problem);
                statuses.Add(new { status = 422, error = new { message = problem } });
            }
        }

        return Results.Json(new { elements = statuses });
    }

    private async Task<IResult> GoogleAsync(HttpContext context)
    {
        await Task.Delay(Latency);
        if (Redirected("google") is { } redirect)
        {
            _requests.AddOrUpdate("google", 1, static (_, n) => n + 1);
            return redirect;
        }

        if (Failing("google"))
        {
            return Results.Json(new { error = new { code = 503, message = "The service is currently unavailable.", status = "UNAVAILABLE" } }, statusCode: 503);
        }

        var bearer = context.Request.Headers.Authorization.ToString();
        var presented = bearer.StartsWith("Bearer ", StringComparison.Ordinal) ? bearer["Bearer ".Length..] : string.Empty;
        _googleTokensSeen.Enqueue(presented);
        if (presented != GoogleToken && !(_googleAccessTokens.TryGetValue(presented, out var valid) && valid))
        {
            Interlocked.Increment(ref _googleUnauthorized);
            Reject("google", "bad bearer token");
            return Results.Json(new { error = new { code = 401, message = "Request had invalid authentication credentials.", status = "UNAUTHENTICATED" } }, statusCode: 401);
        }

        using var doc = await ReadJsonAsync(context, "google");
        var root = doc?.RootElement ?? default;
        var problem = doc is null ? "no JSON"
            : !root.TryGetProperty("destinations", out var destinations) || destinations.GetArrayLength() == 0 ? "destinations required"
            : destinations.EnumerateArray().Any(static d => d.GetProperty("operatingAccount").GetProperty("accountId").GetString() != GoogleCustomer || d.GetProperty("productDestinationId").GetString() is not { Length: > 0 }) ? "bad destination"
            : !root.TryGetProperty("events", out var events) || events.GetArrayLength() is 0 or > 2000 ? "events must hold 1-2000"
            : null;
        var accepted = new List<ReceivedEvent>();
        if (problem is null)
        {
            foreach (var e in root.GetProperty("events").EnumerateArray())
            {
                problem ??= !DateTimeOffset.TryParse(e.GetProperty("eventTimestamp").GetString(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _) ? "eventTimestamp must be RFC 3339"
                    : e.TryGetProperty("userData", out var userData) && (!root.TryGetProperty("encoding", out var enc) || enc.GetString() != "HEX") ? "encoding HEX is required with userData"
                    : e.TryGetProperty("userData", out var ud) ? GoogleUserProblem(ud) ?? Poisoned(e, "transactionId")
                    : Poisoned(e, "transactionId");
                if (problem is null)
                {
                    accepted.Add(new ReceivedEvent("google", e.GetProperty("destinationReferences")[0].GetString()!, e.GetProperty("transactionId").GetString()!, e.Clone()));
                }
            }
        }

        if (problem is not null)
        {
            Reject("google", problem);
            return Results.Json(new { error = new { code = 400, message = problem, status = "INVALID_ARGUMENT" } }, statusCode: 400);
        }

        foreach (var e in accepted)
        {
            _events.Enqueue(e);
        }

        return Results.Json(new { requestId = Guid.NewGuid().ToString() });
    }

    /// <summary>Google's token endpoint: grant_type=refresh_token with the client's id and secret mints a new access token.</summary>
    private async Task<IResult> TokenAsync(HttpContext context)
    {
        Interlocked.Increment(ref _tokenRequests);
        if (Redirected("token") is { } redirect)
        {
            return redirect;
        }

        var form = await context.Request.ReadFormAsync();
        if (form["client_id"] != GoogleClientId || form["client_secret"] != GoogleClientSecret)
        {
            Reject("token", "bad client credentials");
            return Results.Json(new { error = "invalid_client", error_description = "The OAuth client was not found." }, statusCode: 401);
        }

        if (form["grant_type"] != "refresh_token" || form["refresh_token"] != GoogleRefreshToken || RefuseRefresh)
        {
            return Results.Json(new { error = "invalid_grant", error_description = "Token has been expired or revoked." }, statusCode: 400);
        }

        var token = "ya29.fake-access-" + Guid.NewGuid().ToString("N");
        _googleAccessTokens[token] = true;
        return Results.Json(new { access_token = token, expires_in = AccessTokenLifetimeSeconds, token_type = "Bearer", scope = "https://www.googleapis.com/auth/datamanager" });
    }

    private string? Poisoned(JsonElement e, string idProperty) =>
        PoisonEventId is { } poison && e.TryGetProperty(idProperty, out var id) && id.GetString() == poison ? $"{idProperty} {poison}: invalid parameter" : null;

    private static string? GoogleUserProblem(JsonElement userData)
    {
        foreach (var id in userData.GetProperty("userIdentifiers").EnumerateArray())
        {
            var set = id.EnumerateObject().Count();
            if (set != 1)
            {
                return "a userIdentifier is a oneof";
            }

            if ((id.TryGetProperty("emailAddress", out var v) || id.TryGetProperty("phoneNumber", out v)) && !TestKeys.IsSha256Hex(v.GetString()!))
            {
                return "email and phone must be hex SHA-256";
            }

            if (id.TryGetProperty("address", out var a) && (!Regex.IsMatch(a.GetProperty("regionCode").GetString()!, "^[A-Z]{2}$") || TestKeys.IsSha256Hex(a.GetProperty("postalCode").GetString()!)))
            {
                return "regionCode and postalCode are plain";
            }
        }

        return null;
    }

    private static Dictionary<string, object> MetaError(int code, string message, bool transient = false, int? subcode = null) => new Dictionary<string, object>
    {
        ["error"] = new Dictionary<string, object?>
        {
            ["message"] = message,
            ["type"] = code == 190 ? "OAuthException" : "GraphMethodException",
            ["code"] = code,
            ["error_subcode"] = subcode,
            ["is_transient"] = transient,
            ["fbtrace_id"] = "AbCdEf",
        },
    };

    [GeneratedRegex("^v[0-9]+\\.[0-9]$")]
    private static partial Regex VersionPattern();
}

public static class TestKeys
{
    public const string ApiKey = "test-ingest-key-0123456789abcdef";

    public static bool IsSha256Hex(string value) => value.Length == 64 && value.All(static c => char.IsAsciiDigit(c) || c is >= 'a' and <= 'f');

    public static string TempStore() => Path.Combine(Path.GetTempPath(), "capi-tests", Guid.NewGuid().ToString("N"));
}

/// <summary>A journal folder of a test's own, removed when the test is done.</summary>
public sealed class TempStoreDirectory : IDisposable
{
    public string Path { get; } = TestKeys.TempStore();

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
