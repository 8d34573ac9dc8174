using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using TagGateway.TestKit.Loopback;

namespace TagGateway.TestKit.Capi;

/// <summary>One event the fake Measurement Protocol accepted, with its request's client_id and the whole request body.</summary>
public sealed record MpEventReceived(string Name, string? TransactionId, string ClientId, JsonElement Event, JsonElement Request);

/// <summary>
/// The GA4 Measurement Protocol as a real Kestrel server on 127.0.0.1:0: <c>POST /mp/collect</c> and the validation
/// server <c>POST /debug/mp/collect</c>. It checks what Google's reference documents (measurement_id and api_secret in
/// the query, a JSON body, a non-empty client_id, an integer timestamp_micros, 1-25 events each with a valid name and a
/// params object, consent values GRANTED/DENIED, user_data digests as 64 lower-case hex, only documented top-level
/// fields) and records each accepted event. A refused request is recorded in <see cref="Rejections"/> and answered 2xx
/// (collect, as Google does) or with validation messages (debug).
/// </summary>
public sealed partial class FakeMeasurementProtocol : LoopbackServer
{
    public const string MeasurementId = "G-TEST1234";
    public const string ApiSecret = "mp-secret-0123456789abcdef";

    private static readonly HashSet<string> TopLevel =
        ["client_id", "user_id", "timestamp_micros", "user_properties", "consent", "user_data", "events", "non_personalized_ads", "user_location", "ip_override", "device", "validation_behavior"];

    private readonly ConcurrentQueue<MpEventReceived> _events = new();
    private readonly ConcurrentQueue<string> _rejections = new();
    private int _requests;
    private int _debugRequests;

    private FakeMeasurementProtocol()
    {
    }

    public IReadOnlyCollection<MpEventReceived> Events => [.. _events];

    public IReadOnlyCollection<string> Rejections => [.. _rejections];

    public int Requests => Volatile.Read(ref _requests);

    public int DebugRequests => Volatile.Read(ref _debugRequests);

    public static Task<FakeMeasurementProtocol> StartAsync() => ListenAsync(new FakeMeasurementProtocol());

    protected override void Map(WebApplication app)
    {
        app.MapPost("/mp/collect", (Delegate)CollectAsync);
        app.MapPost("/debug/mp/collect", (Delegate)DebugAsync);
    }

    /// <summary>Capi:GoogleAnalytics settings pointing at this fake.</summary>
    public Dictionary<string, string?> Settings(TimeSpan window) => new()
    {
        ["Capi:GoogleAnalytics:MeasurementId"] = MeasurementId,
        ["Capi:GoogleAnalytics:ApiSecret"] = ApiSecret,
        ["Capi:GoogleAnalytics:BaseUrl"] = Url,
        ["Capi:GoogleAnalytics:GapFillWindow"] = window.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
    };

    private async Task<IResult> CollectAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        (var errors, var doc) = await CheckAsync(context);
        if (errors.Count > 0)
        {
            foreach (var e in errors)
            {
                _rejections.Enqueue(e);
            }

            // Google's collect endpoint answers 2xx to a malformed payload too: only the validation server says why.
            return Results.StatusCode(204);
        }

        var root = doc!.RootElement.Clone();
        var clientId = root.GetProperty("client_id").GetString()!;
        foreach (var e in root.GetProperty("events").EnumerateArray())
        {
            var transaction = e.GetProperty("params").TryGetProperty("transaction_id", out var t) ? t.GetString() : null;
            _events.Enqueue(new MpEventReceived(e.GetProperty("name").GetString()!, transaction, clientId, e, root));
        }

        return Results.StatusCode(204);
    }

    private async Task<IResult> DebugAsync(HttpContext context)
    {
        Interlocked.Increment(ref _debugRequests);
        (var errors, _) = await CheckAsync(context);
        var messages = string.Join(',', errors.Select(static e => JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["fieldPath"] = "events",
            ["description"] = e,
            ["validationCode"] = "VALUE_INVALID",
        })));
        return Results.Text($$"""{"validationMessages":[{{messages}}]}""", "application/json");
    }

    private async Task<(List<string> Errors, JsonDocument? Doc)> CheckAsync(HttpContext context)
    {
        var errors = new List<string>();
        if (context.Request.Query["measurement_id"] != MeasurementId)
        {
            errors.Add("measurement_id " + context.Request.Query["measurement_id"]);
        }

        if (context.Request.Query["api_secret"] != ApiSecret)
        {
            errors.Add("api_secret is wrong");
        }

        if (context.Request.ContentType?.StartsWith("application/json", StringComparison.Ordinal) != true)
        {
            errors.Add("content type " + context.Request.ContentType);
        }

        JsonDocument doc;
        try
        {
            doc = await JsonDocument.ParseAsync(context.Request.Body);
        }
        catch (JsonException ex)
        {
            errors.Add("not JSON: " + ex.Message);
            return (errors, null);
        }

        var root = doc.RootElement;
        foreach (var p in root.EnumerateObject())
        {
            if (!TopLevel.Contains(p.Name))
            {
                errors.Add("unknown field " + p.Name);
            }
        }

        if (!root.TryGetProperty("client_id", out var cid) || cid.ValueKind != JsonValueKind.String || cid.GetString()!.Length == 0)
        {
            errors.Add("client_id is required");
        }

        if (root.TryGetProperty("timestamp_micros", out var ts) && (ts.ValueKind != JsonValueKind.Number || !ts.TryGetInt64(out var micros)
            || micros < DateTimeOffset.UtcNow.AddHours(-72).ToUnixTimeMilliseconds() * 1000 || micros > DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeMilliseconds() * 1000))
        {
            errors.Add("timestamp_micros must be an integer within the last 72 hours");
        }

        if (root.TryGetProperty("consent", out var consent))
        {
            foreach (var p in consent.EnumerateObject())
            {
                if (p.Name is not ("ad_user_data" or "ad_personalization") || p.Value.GetString() is not ("GRANTED" or "DENIED"))
                {
                    errors.Add($"consent.{p.Name} {p.Value}");
                }
            }
        }

        if (root.TryGetProperty("user_data", out var user))
        {
            CheckUserData(user, errors);
        }

        if (!root.TryGetProperty("events", out var events) || events.ValueKind != JsonValueKind.Array || events.GetArrayLength() is < 1 or > 25)
        {
            errors.Add("events must hold 1 to 25 events");
            return (errors, doc);
        }

        foreach (var e in events.EnumerateArray())
        {
            var name = e.TryGetProperty("name", out var n) ? n.GetString() : null;
            if (name is null || !EventName().IsMatch(name))
            {
                errors.Add("event name " + name);
            }

            if (!e.TryGetProperty("params", out var prms) || prms.ValueKind != JsonValueKind.Object)
            {
                errors.Add("params must be an object");
                continue;
            }

            if (prms.TryGetProperty("value", out var value) && value.ValueKind != JsonValueKind.Number)
            {
                errors.Add("value must be a number");
            }

            if (prms.TryGetProperty("currency", out var currency) && (currency.GetString() is not { Length: 3 } c || !c.All(char.IsAsciiLetterUpper)))
            {
                errors.Add("currency must be ISO 4217");
            }

            if (prms.TryGetProperty("items", out var items))
            {
                foreach (var item in items.EnumerateArray())
                {
                    if (!item.TryGetProperty("item_id", out _) && !item.TryGetProperty("item_name", out _))
                    {
                        errors.Add("an item needs item_id or item_name");
                    }
                }
            }
        }

        return (errors, doc);
    }

    private static void CheckUserData(JsonElement user, List<string> errors)
    {
        foreach (var p in user.EnumerateObject())
        {
            switch (p.Name)
            {
                case "sha256_email_address" or "sha256_phone_number":
                    foreach (var h in p.Value.EnumerateArray())
                    {
                        if (!Hex64().IsMatch(h.GetString() ?? string.Empty))
                        {
                            errors.Add(p.Name + " is not a SHA-256 hex digest");
                        }
                    }

                    break;
                case "address":
                    foreach (var a in p.Value.EnumerateArray())
                    {
                        foreach (var f in a.EnumerateObject())
                        {
                            if (f.Name.StartsWith("sha256_", StringComparison.Ordinal) && !Hex64().IsMatch(f.Value.GetString() ?? string.Empty))
                            {
                                errors.Add("address." + f.Name + " is not a SHA-256 hex digest");
                            }
                            else if (f.Name is not ("sha256_first_name" or "sha256_last_name" or "sha256_street" or "city" or "region" or "postal_code" or "country"))
                            {
                                errors.Add("address." + f.Name + " is not a documented field");
                            }
                        }
                    }

                    break;
                default:
                    errors.Add("user_data." + p.Name + " is not a documented field");
                    break;
            }
        }
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]{0,39}$")]
    private static partial Regex EventName();

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Hex64();
}
