using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Mapping;
using TagGateway.Capi.Model;
using TagGateway.Capi.Quality;

namespace TagGateway.Capi.Delivery.GoogleAnalytics;

/// <summary>
/// GA4 Measurement Protocol: POST {BaseUrl}/mp/collect?measurement_id=G-…&amp;api_secret=… with a JSON body (Google's
/// "Measurement Protocol reference"). A request carries one user, so a batch is split by user; each request holds
/// at most 25 events. The collect endpoint answers 2xx to anything it receives (its validation server,
/// /debug/mp/collect, is where payload errors show: <see cref="ValidateAsync"/>), so a 2xx is delivered, 429 and 5xx
/// are retried, another 4xx is fatal.
/// </summary>
internal sealed class GoogleAnalyticsClient : DestinationClient
{
    public const int MaxEventsPerRequest = 25;

    private readonly GoogleAnalyticsOptions _ga;
    private readonly string _query;
    private readonly TimeProvider _time;

    public GoogleAnalyticsClient(IHttpClientFactory factory, GoogleAnalyticsOptions options, string? apiSecret, EventNameMap map, ILogger<GoogleAnalyticsClient> logger, TimeProvider? time = null)
        : base(CapiDestination.GoogleAnalytics, factory, options, apiSecret, map, logger)
    {
        _ga = options;
        _time = time ?? TimeProvider.System;

        // The secret is a query parameter (Google's design); the URL never reaches a log (no request logging on this client).
        _query = "?measurement_id=" + Uri.EscapeDataString(options.MeasurementId ?? string.Empty) + "&api_secret=" + Uri.EscapeDataString(AccessToken);
    }

    public override ResponseClass Classify(HttpStatusCode status, ReadOnlySpan<byte> body, out string? error)
    {
        if (Is2xx(status))
        {
            error = null;
            return ResponseClass.Success;
        }

        error = $"HTTP {StatusText(status)}";
        return IsTransientStatus(status) ? ResponseClass.Retryable : ResponseClass.Fatal;
    }

    /// <summary>Splits the batch into one request per user (and instant), each sent on its own; the outcomes are combined per event.</summary>
    public override async Task<DeliveryResult> SendAsync(IReadOnlyList<CapiEvent> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var groups = Group(batch);
        if (groups.Count == 1)
        {
            return await base.SendAsync(batch, cancellationToken);
        }

        var masks = new IdentityKeys[batch.Count];
        var failed = new Dictionary<long, (bool Retryable, string Error)>();
        DeliveryResult? lastFailure = null;
        TimeSpan? retryAfter = null;
        foreach (var group in groups)
        {
            CapiEvent[] events = [.. group.Select(i => batch[i])];
            var result = await base.SendAsync(events, cancellationToken);
            for (var k = 0; k < group.Count; k++)
            {
                masks[group[k]] = k < result.KeyMasks.Length ? result.KeyMasks[k] : IdentityKeys.None;
            }

            if (result.Outcome == DeliveryOutcome.Delivered)
            {
                continue;
            }

            lastFailure = result;
            retryAfter ??= result.RetryAfter;
            foreach (var e in events)
            {
                failed[e.Seq] = (result.Outcome == DeliveryOutcome.Retryable, result.Error ?? "not delivered");
            }
        }

        if (failed.Count == 0)
        {
            return new DeliveryResult(DeliveryOutcome.Delivered) { KeyMasks = masks };
        }

        // Every request failed alike (credentials, an outage): the batch's own answer, so the worker backs off or isolates as usual.
        return failed.Count == batch.Count && lastFailure is not null
            ? lastFailure with { KeyMasks = masks }
            : new DeliveryResult(DeliveryOutcome.Partial, null, retryAfter, failed) { KeyMasks = masks };
    }

    protected override HttpRequestMessage BuildRequest(IReadOnlyList<CapiEvent> batch, IdentityKeys[] keyMasks)
    {
        var request = Payload(batch, keyMasks);
        return new HttpRequestMessage(HttpMethod.Post, "mp/collect" + _query) { Content = Json(request, CapiSnakeJsonContext.Default.MpRequest) };
    }

    /// <summary>Sends one sample event to the validation server and returns its messages (management: POST /capi/google-analytics/validate).</summary>
    public async Task<MpValidationResult> ValidateAsync(IHttpClientFactory factory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(factory);
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var sample = new CapiEvent
        {
            Name = "purchase",
            EventId = "tg-validate-" + now.ToString(System.Globalization.CultureInfo.InvariantCulture),
            TransactionId = "tg-validate-" + now.ToString(System.Globalization.CultureInfo.InvariantCulture),
            TimeMs = now,
            GaClientId = "1234567890.1700000000",
            Currency = "EUR",
            Value = 1m,
            Consent = ConsentMask.Set(0, CapiDestination.GoogleAnalytics, DestinationConsent.Send),
            Items = [new CapiItem { Id = "SKU-VALIDATE", Name = "Validation sample", Price = 1m, Quantity = 1 }],
        };
        using var request = new HttpRequestMessage(HttpMethod.Post, "debug/mp/collect" + _query) { Content = Json(Payload([sample], new IdentityKeys[1]), CapiSnakeJsonContext.Default.MpRequest) };
        var result = new MpValidationResult { Endpoint = (_ga.BaseUrl.TrimEnd('/')) + "/debug/mp/collect" };
        var client = factory.CreateClient(HttpClientName);
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
        result.Status = (int)response.StatusCode;
        if (Http.OutboundHandlers.IsRedirect(response.StatusCode))
        {
            result.Error = $"redirect to {Http.OutboundHandlers.RedirectHost(response)} refused (never followed)";
            return result;
        }

        var answer = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        try
        {
            var parsed = answer.Length == 0 ? null : JsonSerializer.Deserialize(answer, CapiJsonContext.Default.MpValidationResponse);
            result.ValidationMessages = parsed?.ValidationMessages ?? [];
            result.Valid = Is2xx(response.StatusCode) && parsed is not null && result.ValidationMessages.Count == 0;
            if (parsed is null)
            {
                result.Error = "the validation server answered without a body";
            }
        }
        catch (JsonException)
        {
            result.Error = "the validation server's answer is not JSON";
        }

        return result;
    }

    protected override string Describe(IReadOnlyList<CapiEvent> batch, IdentityKeys[] keyMasks) =>
        $"measurement {_ga.MeasurementId}, events [{string.Join(',', batch.Select(static e => e.Name).Distinct())}], user keys [{KeyNames(keyMasks)}], api_secret [redacted]";

    /// <summary>Events of one user and instant share a request (the body's client_id, user_id, consent, user_data and timestamp are per request), at most 25 each.</summary>
    internal static List<List<int>> Group(IReadOnlyList<CapiEvent> batch)
    {
        var groups = new List<List<int>>();
        var index = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i];
            var key = string.Join('\u001f', e.GaClientId, e.UserId, e.TimeMs, e.Consent >> (4 * (int)CapiDestination.GoogleAnalytics) & 0xF, e.AdUserData, e.AdPersonalization, e.Identity.EmGoogle, e.Identity.PhE164);
            if (!index.TryGetValue(key, out var group) || group.Count == MaxEventsPerRequest)
            {
                group = [];
                index[key] = group;
                groups.Add(group);
            }

            group.Add(i);
        }

        return groups;
    }

    private MpRequest Payload(IReadOnlyList<CapiEvent> batch, IdentityKeys[] keyMasks)
    {
        var first = batch[0];
        var consent = ConsentMask.Get(first.Consent, CapiDestination.GoogleAnalytics);
        var userData = (consent & DestinationConsent.UserData) != 0;
        var request = new MpRequest
        {
            ClientId = first.GaClientId ?? first.ClientId ?? string.Empty,
            UserId = first.UserId,
            TimestampMicros = first.TimeMs * 1000,
            Consent = new MpConsent
            {
                // What consent allowed for GA decides ad_user_data; ad_personalization as the visitor gave it (restricted: denied).
                AdUserData = userData ? "GRANTED" : "DENIED",
                AdPersonalization = (consent & DestinationConsent.Restricted) != 0 ? "DENIED" : first.AdPersonalization,
            },
            UserData = userData ? UserDataOf(first.Identity) : null,
        };

        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i];
            keyMasks[i] = userData ? MatchQualityTracker.KeysOf(CapiDestination.GoogleAnalytics, e.Identity, userData: true, identifiers: false) & GoogleAnalyticsKeys : IdentityKeys.None;
            request.Events.Add(new MpEvent
            {
                Name = Map.For(CapiDestination.GoogleAnalytics, e.Name) ?? e.Name,
                Params = new MpParams
                {
                    TransactionId = e.TransactionId,
                    Value = e.Value,
                    Currency = e.Currency,
                    SessionId = e.SessionId,
                    EngagementTimeMsec = 1,
                    EventId = e.EventId,
                    PageLocation = e.PageUrl,
                    Items = e.Items?.Select(static item => new MpItem { ItemId = item.Id, ItemName = item.Name, Price = item.Price, Quantity = item.Quantity }).ToList(),
                },
            });
        }

        return request;
    }

    // What user_data has fields for.
    private const IdentityKeys GoogleAnalyticsKeys = IdentityKeys.Email | IdentityKeys.Phone | IdentityKeys.Country
        | IdentityKeys.FirstName | IdentityKeys.LastName | IdentityKeys.City | IdentityKeys.State | IdentityKeys.Zip;

    private static MpUserData? UserDataOf(IdentityData id)
    {
        var data = new MpUserData
        {
            Sha256EmailAddress = id.EmGoogle is { } em ? [em] : null,
            Sha256PhoneNumber = id.PhE164 is { } ph ? [ph] : null,
        };

        if (id.Fn is not null || id.Ln is not null || id.City is not null || id.State is not null || id.Zip is not null || id.Country is not null)
        {
            data.Address =
            [
                new MpAddress
                {
                    Sha256FirstName = HashPlain(id.Fn),
                    Sha256LastName = HashPlain(id.Ln),
                    City = PlainOnly(id.City),
                    Region = PlainOnly(id.State),
                    PostalCode = PlainOnly(id.Zip),
                    Country = PlainOnly(id.Country)?.ToUpperInvariant(),
                },
            ];
        }

        return data.Sha256EmailAddress is null && data.Sha256PhoneNumber is null && data.Address is null ? null : data;
    }
}
