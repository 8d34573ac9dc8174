using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Mapping;
using TagGateway.Capi.Model;
using TagGateway.Capi.Quality;

namespace TagGateway.Capi.Delivery.GoogleAds;

/// <summary>
/// Google Ads conversions through the Data Manager API: POST {BaseUrl}/v1/events:ingest (up to 2,000 events), OAuth
/// bearer. Each mapped GA4 event names a conversion action (productDestinationId); a batch lists each action once and
/// events refer to it. Email, phone and names are hashed (Google's rules); region and postal code stay plain.
/// </summary>
internal sealed class GoogleAdsClient : DestinationClient
{
    // What the Data Manager API's user data and event carry: email, phone, names, country, zip, click ids, IP and user agent.
    private const IdentityKeys SentToGoogle = IdentityKeys.Email | IdentityKeys.ClickId | IdentityKeys.Phone | IdentityKeys.Ip | IdentityKeys.UserAgent
        | IdentityKeys.Country | IdentityKeys.FirstName | IdentityKeys.LastName | IdentityKeys.Zip;

    private readonly GoogleAdsOptions _google;
    private readonly GoogleOAuthTokenSource? _tokens;

    /// <param name="tokens">The refresh-token flow; null: the configured static access token.</param>
    public GoogleAdsClient(IHttpClientFactory factory, GoogleAdsOptions options, string? accessToken, EventNameMap map, ILogger<GoogleAdsClient> logger, GoogleOAuthTokenSource? tokens = null)
        : base(CapiDestination.GoogleAds, factory, options, accessToken, map, logger)
    {
        _google = options;
        _tokens = tokens;
    }

    protected override bool CanRefreshCredentials => _tokens is not null;

    protected override async ValueTask<string?> AuthorizeAsync(HttpRequestMessage request, string? rejected, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_tokens is null)
        {
            return null;
        }

        (var token, var error) = await _tokens.GetAsync(rejected, cancellationToken);
        if (token is null)
        {
            return error;
        }

        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return null;
    }

    public override ResponseClass Classify(HttpStatusCode status, ReadOnlySpan<byte> body, out string? error)
    {
        if (Is2xx(status))
        {
            error = null;
            return ResponseClass.Success;
        }

        GoogleError? e = null;
        try
        {
            e = body.IsEmpty ? null : JsonSerializer.Deserialize(body, CapiCamelJsonContext.Default.GoogleErrorResponse)?.Error;
        }
        catch (JsonException)
        {
            // Judged by status alone.
        }

        error = $"HTTP {StatusText(status)}{(e is null ? null : $" {e.Status}: {e.Message}")}";
        return IsTransientStatus(status) ? ResponseClass.Retryable : ResponseClass.Fatal;
    }

    protected override HttpRequestMessage BuildRequest(IReadOnlyList<CapiEvent> batch, IdentityKeys[] keyMasks)
    {
        var request = new IngestEventsRequest { ValidateOnly = _google.ValidateOnly ? true : null };
        var references = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i];
            var action = Map.For(CapiDestination.GoogleAds, e.Name) ?? string.Empty;
            if (!references.TryGetValue(action, out var reference))
            {
                reference = "a" + references.Count.ToString(CultureInfo.InvariantCulture);
                references[action] = reference;
                request.Destinations.Add(new GoogleDestination
                {
                    Reference = reference,
                    OperatingAccount = new GoogleAccount { AccountId = _google.CustomerId ?? string.Empty },
                    LoginAccount = _google.LoginCustomerId is { } login ? new GoogleAccount { AccountId = login } : null,
                    ProductDestinationId = action,
                });
            }

            var consent = ConsentMask.Get(e.Consent, CapiDestination.GoogleAds);
            var userData = (consent & DestinationConsent.UserData) != 0;
            var id = e.Identity;
            var google = new GoogleEvent
            {
                DestinationReferences = [reference],
                TransactionId = e.TransactionId ?? e.EventId,
                EventTimestamp = DateTimeOffset.FromUnixTimeMilliseconds(e.TimeMs).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
                ConversionValue = e.Value,
                Currency = e.Currency,
                ClientId = e.ClientId,
                Consent = new GoogleConsent
                {
                    AdUserData = userData ? "CONSENT_GRANTED" : "CONSENT_DENIED",
                    AdPersonalization = (consent & DestinationConsent.Restricted) == 0 && userData ? "CONSENT_GRANTED" : "CONSENT_DENIED",
                },
            };

            if (userData)
            {
                var identifiers = new List<GoogleUserIdentifier>();
                if (id.EmGoogle is { } email)
                {
                    identifiers.Add(new GoogleUserIdentifier { EmailAddress = email });
                }

                if (id.PhE164 is { } phone)
                {
                    identifiers.Add(new GoogleUserIdentifier { PhoneNumber = phone });
                }

                // The address needs both names, a country and a postal code, the last two in clear.
                if (id.Fn is { } given && id.Ln is { } family && PlainOnly(id.Country) is { } country && PlainOnly(id.Zip) is { } zip)
                {
                    identifiers.Add(new GoogleUserIdentifier { Address = new GoogleAddress { GivenName = given, FamilyName = family, RegionCode = country.ToUpperInvariant(), PostalCode = zip } });
                }

                google.UserData = identifiers.Count > 0 ? new GoogleUserData { UserIdentifiers = identifiers } : null;
                if (id.Gclid is not null || id.Gbraid is not null || id.Wbraid is not null || id.UserAgent is not null || id.Ip is not null)
                {
                    google.AdIdentifiers = new GoogleAdIdentifiers
                    {
                        Gclid = id.Gclid,
                        Gbraid = id.Gbraid,
                        Wbraid = id.Wbraid,
                        LandingPageDeviceInfo = id.UserAgent is null && id.Ip is null ? null : new GoogleDeviceInfo { UserAgent = id.UserAgent, IpAddress = id.Ip },
                    };
                }
            }

            keyMasks[i] = MatchQualityTracker.KeysOf(CapiDestination.GoogleAds, id, userData, identifiers: false) & SentToGoogle;
            request.Events.Add(google);
        }

        var message = new HttpRequestMessage(HttpMethod.Post, "v1/events:ingest") { Content = Json(request, CapiCamelJsonContext.Default.IngestEventsRequest) };
        if (_tokens is null)
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AccessToken);
        }

        return message;
    }

    protected override string Describe(IReadOnlyList<CapiEvent> batch, IdentityKeys[] keyMasks) =>
        $"customer {_google.CustomerId}, actions [{string.Join(',', batch.Select(e => Map.For(CapiDestination.GoogleAds, e.Name)).Distinct())}], identifiers [{KeyNames(keyMasks)}], Authorization [redacted]";
}
