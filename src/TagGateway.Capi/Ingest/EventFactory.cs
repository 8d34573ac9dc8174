using System.Collections.Frozen;
using System.Text;
using Microsoft.Extensions.Logging;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.GapFill;
using TagGateway.Capi.Mapping;
using TagGateway.Capi.Model;
using TagGateway.Capi.Observability;
using TagGateway.Consent.Logging;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;

namespace TagGateway.Capi.Ingest;

/// <summary>
/// Builds stored events from hits and server-to-server payloads: the event id, the destinations that map the event,
/// the consent layer's decision per destination, and identity normalised and hashed once (only when some destination
/// may receive it).
/// </summary>
internal sealed partial class EventFactory
{
    private readonly CapiOptions _options;
    private readonly EventNameMap _map;
    private readonly IConsentPolicy _policy;
    private readonly IConsentRecorder _recorder;
    private readonly CapiMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly CapiDestination[] _configured;

    public EventFactory(CapiOptions options, EventNameMap map, IConsentPolicy policy, IConsentRecorder recorder, ILogger<EventFactory> logger, CapiMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _map = map;
        _policy = policy;
        _recorder = recorder;
        _logger = logger;
        _metrics = metrics;
        _configured = [.. ConfiguredDestinations(options)];
        _maxEventAge = _configured.Length == 0 ? TimeSpan.Zero : _configured.Max(d => DestinationOptionsOf(options, d).MaxEventAge);
    }

    private readonly TimeSpan _maxEventAge;

    /// <summary>
    /// Meta's action_source values (conversion-apis.md §1.2, Meta's server-event parameters; the same nine listed by
    /// Segment's Facebook Conversions API destination docs). Anything else Meta refuses, failing its whole batch.
    /// </summary>
    internal static readonly FrozenSet<string> ActionSources = FrozenSet.Create(StringComparer.Ordinal,
        "email", "website", "app", "phone_call", "chat", "physical_store", "system_generated", "business_messaging", "other");

    internal static DestinationOptions DestinationOptionsOf(CapiOptions options, CapiDestination destination) => destination switch
    {
        CapiDestination.Meta => options.Meta,
        CapiDestination.TikTok => options.TikTok,
        CapiDestination.LinkedIn => options.LinkedIn,
        CapiDestination.GoogleAnalytics => options.GoogleAnalytics,
        _ => options.GoogleAds,
    };

    public IReadOnlyList<CapiDestination> Configured => _configured;

    internal static IEnumerable<CapiDestination> ConfiguredDestinations(CapiOptions options)
    {
        if (options.Meta.IsConfigured)
        {
            yield return CapiDestination.Meta;
        }

        if (options.TikTok.IsConfigured)
        {
            yield return CapiDestination.TikTok;
        }

        if (options.LinkedIn.IsConfigured)
        {
            yield return CapiDestination.LinkedIn;
        }

        if (options.GoogleAds.IsConfigured)
        {
            yield return CapiDestination.GoogleAds;
        }

        if (options.GoogleAnalytics.IsConfigured)
        {
            yield return CapiDestination.GoogleAnalytics;
        }
    }

    /// <summary>
    /// An event of a forwarded hit; null when no destination takes it. The host already recorded the hit's consent
    /// decisions. <paramref name="now"/> is read once for a group of events (so they become ready together).
    /// </summary>
    public CapiEvent? FromHit(DecodedEvent decoded, MeasurementHit hit, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(decoded);
        ArgumentNullException.ThrowIfNull(hit);
        var region = hit.CountryRegion ?? string.Empty;
        (var destinations, var consent) = Decide(decoded.Name, decoded.EventId, decoded.Signals, region, decoded.TagId, decoded.ClientId, record: false, fromHit: true);

        // Meta refuses a website event without client_user_agent and event_source_url; a hit lacking either (a
        // script-less client, no dl) would fail at Meta, so Meta is not asked, and the drop is counted.
        if ((destinations & CapiDestination.Meta.Bit()) != 0 && (string.IsNullOrWhiteSpace(hit.UserAgent) || string.IsNullOrWhiteSpace(decoded.PageUrl)))
        {
            destinations &= ~CapiDestination.Meta.Bit();
            _metrics?.Dropped(CapiDestination.Meta, "missing_website_fields");
        }

        if (destinations == 0)
        {
            return null;
        }

        var timeMs = hit.ReceivedAt.ToUnixTimeMilliseconds();
        (var userData, var identifiers) = Needs(consent, destinations);
        return new CapiEvent
        {
            Origin = EventOrigin.Hit,
            Name = decoded.Name,
            EventId = decoded.EventId,
            TimeMs = timeMs,
            AcceptedMs = now.ToUnixTimeMilliseconds(),
            PageUrl = decoded.PageUrl,
            Referrer = decoded.Referrer,
            ClientId = decoded.ClientId,
            TransactionId = decoded.TransactionId,
            Currency = decoded.Currency,
            Value = decoded.Value,
            Items = decoded.Items,
            Region = hit.CountryRegion,
            Destinations = destinations,
            Consent = consent,
            Identity = IdentityBuilder.Build(decoded.User, userData, identifiers, timeMs, _options.DefaultPhoneCountryCode, now, RegionCountry(region)),
        };
    }

    /// <summary>A server-to-server event; <paramref name="error"/> explains a refusal (the whole request is then 400).</summary>
    public CapiEvent? FromServer(ServerEvent e, int index, DateTimeOffset now, out string? error, out bool notSent)
    {
        ArgumentNullException.ThrowIfNull(e);
        notSent = false;
        error = Validate(e, index, now, out var timeMs, out var actionSource);
        if (error is not null)
        {
            return null;
        }

        var name = e.EventName!.Trim();

        // Validate made sure one of them is there: a retry carries the same id, so every platform deduplicates it.
        var eventId = Clean(e.EventId) ?? Clean(e.TransactionId)!;
        var region = Clean(e.Region) ?? string.Empty;
        var signals = SignalsOf(e.Consent);
        (var destinations, var consent) = Decide(name, eventId, signals, region, "s2s", e.ClientId, record: true, fromHit: false);
        var gaClientId = GaClientIds.Resolve(Clean(e.ClientId), Clean(e.GaCookie), Clean(e.Fpid));
        var ga = CapiDestination.GoogleAnalytics.Bit();
        if ((destinations & ga) != 0 && gaClientId is null)
        {
            // The Measurement Protocol requires client_id: without one GA cannot take the event (the others still can).
            destinations &= ~ga;
            _metrics?.Dropped(CapiDestination.GoogleAnalytics, "no_client_id");
        }

        if (destinations == 0)
        {
            notSent = true;
            return new CapiEvent { Name = name, EventId = eventId };
        }

        (var userData, var identifiers) = Needs(consent, destinations);
        return new CapiEvent
        {
            Origin = EventOrigin.Server,
            Name = name,
            EventId = eventId,
            TimeMs = timeMs,
            AcceptedMs = now.ToUnixTimeMilliseconds(),
            ActionSource = actionSource,
            PageUrl = Clean(e.PageUrl),
            Referrer = Clean(e.Referrer),
            ClientId = Clean(e.ClientId),
            GaClientId = (destinations & ga) == 0 ? null : gaClientId,
            UserId = (destinations & ga) == 0 ? null : Clean(e.UserId),
            SessionId = (destinations & ga) == 0 ? null : Clean(e.SessionId),
            AdUserData = ConsentWord(e.Consent?.AdUserData),
            AdPersonalization = ConsentWord(e.Consent?.AdPersonalization),
            TransactionId = Clean(e.TransactionId),
            Currency = Clean(e.Currency)?.ToUpperInvariant(),
            Value = e.Value,
            Items = e.Items?.Select(static i => new CapiItem { Id = i.Id, Name = i.Name, Price = i.Price, Quantity = i.Quantity }).ToList(),
            Region = region.Length == 0 ? null : region,
            Destinations = destinations,
            Consent = consent,
            Identity = IdentityBuilder.Build(e.User ?? new UserInput(), userData, identifiers, timeMs, _options.DefaultPhoneCountryCode, now, RegionCountry(region)),
        };
    }

    private (int Destinations, int Consent) Decide(string name, string eventId, in ConsentSignals signals, string region, string? tagId, string? clientId, bool record, bool fromHit)
    {
        var decision = _policy.Decide(signals, region);
        if (record)
        {
            _recorder.Record(decision, new ConsentContext(tagId, clientId, region, name));
        }

        int destinations = 0, consent = 0;
        foreach (var d in _configured)
        {
            // A browser hit already reached Google Analytics through the gateway: it only cancels a gap-fill (GapFill/).
            if (fromHit && d == CapiDestination.GoogleAnalytics)
            {
                continue;
            }

            if (!_map.IsMapped(d, name))
            {
                continue;
            }

            var dd = decision.For(d.ToConsent());
            var allowed = ConsentMask.From(dd);
            Log.ConsentDecision(_logger, name, eventId, d, dd.Outcome);
            // Consent Mode lets GA take cookieless pings without analytics_storage, but a Measurement Protocol event
            // carries a client_id (an identifier): gap-fill only where analytics storage is allowed.
            if (d == CapiDestination.GoogleAnalytics && (allowed & DestinationConsent.Identifiers) == 0)
            {
                allowed = DestinationConsent.None;
            }

            if ((allowed & DestinationConsent.Send) == 0)
            {
                _metrics?.Dropped(d, "consent");
                continue;
            }

            destinations |= d.Bit();
            consent = ConsentMask.Set(consent, d, allowed);
        }

        return (destinations, consent);
    }

    private static (bool UserData, bool Identifiers) Needs(int consent, int destinations)
    {
        bool userData = false, identifiers = false;
        foreach (var d in CapiDestinations.All)
        {
            if ((destinations & d.Bit()) != 0)
            {
                var c = ConsentMask.Get(consent, d);
                userData |= (c & DestinationConsent.UserData) != 0;
                identifiers |= (c & DestinationConsent.Identifiers) != 0;
            }
        }

        return (userData, identifiers);
    }

    /// <summary>
    /// The payload's consent as signals the policy understands: explicit states become a gcd whose update letters say
    /// granted ('n') or denied ('m'); types left out keep the given gcd's letter, else "not set" ('l'), so the region
    /// default decides. gcs passes as is.
    /// </summary>
    internal static ConsentSignals SignalsOf(ServerConsent? consent)
    {
        if (consent is null)
        {
            return ConsentSignals.FromQuery(ReadOnlySpan<char>.Empty, globalPrivacyControl: false);
        }

        var query = new StringBuilder();
        if (Clean(consent.Gcs) is { } gcs)
        {
            query.Append("gcs=").Append(Uri.EscapeDataString(gcs));
        }

        string?[] states = [consent.AdStorage, consent.AnalyticsStorage, consent.AdUserData, consent.AdPersonalization];
        var gcd = Clean(consent.Gcd);
        if (states.Any(static s => s is not null))
        {
            Span<char> letters = ['1', '3', 'l', '3', 'l', '3', 'l', '3', 'l', '5'];
            for (var i = 0; i < 4; i++)
            {
                var at = 2 + (2 * i);
                letters[at] = StateLetter(states[i]) ?? (gcd is { Length: > 8 } && gcd[0] == '1' ? gcd[at] : 'l');
            }

            gcd = new string(letters);
        }

        if (gcd is not null)
        {
            query.Append(query.Length > 0 ? "&" : null).Append("gcd=").Append(Uri.EscapeDataString(gcd));
        }

        return ConsentSignals.FromQuery(query.ToString(), consent.Gpc == true);
    }

    private static string? ConsentWord(string? state) => StateLetter(state) switch
    {
        'n' => "GRANTED",
        'm' => "DENIED",
        _ => null,
    };

    private static char? StateLetter(string? state) => state?.Trim().ToUpperInvariant() switch
    {
        "GRANTED" or "CONSENT_GRANTED" or "TRUE" or "1" => 'n',
        "DENIED" or "CONSENT_DENIED" or "FALSE" or "0" => 'm',
        _ => null,
    };

    private string? Validate(ServerEvent e, int index, DateTimeOffset now, out long timeMs, out string actionSource)
    {
        timeMs = 0;
        actionSource = Clean(e.ActionSource)?.ToLowerInvariant() ?? "website";
        if (string.IsNullOrWhiteSpace(e.EventName))
        {
            return $"events[{index}].event_name is required.";
        }

        if (e.EventName.Length > 100)
        {
            return $"events[{index}].event_name is longer than 100 characters.";
        }

        if (e.EventId is { Length: > 200 })
        {
            return $"events[{index}].event_id is longer than 200 characters.";
        }

        // No id derived from the clock or the content: the site's retry must carry the very same id to be deduplicated.
        if (Clean(e.EventId) is null && (e.EventName.Trim() != "purchase" || Clean(e.TransactionId) is null))
        {
            return $"events[{index}].event_id is required (a purchase may give transaction_id instead): the same id on a retry is how every platform deduplicates.";
        }

        if (e.EventTime is not { } t)
        {
            return $"events[{index}].event_time is required (Unix seconds when the event happened).";
        }

        if (t <= 0)
        {
            return $"events[{index}].event_time {t} is not a Unix time in seconds.";
        }

        // Milliseconds are recognised (13 digits), as the platforms' own SDK users often send them; no overflow either way.

        timeMs = t > 100_000_000_000 ? t : t * 1000;
        var nowMs = now.ToUnixTimeMilliseconds();
        var skew = _options.Ingest.MaxFutureSkew;
        if (timeMs > nowMs + (long)skew.TotalMilliseconds)
        {
            return $"events[{index}].event_time {t} is in the future (more than {skew.TotalMinutes:0.#} minutes ahead of the gateway's clock); send Unix seconds.";
        }

        if (timeMs < nowMs - (long)_maxEventAge.TotalMilliseconds)
        {
            return $"events[{index}].event_time {t} is older than {_maxEventAge.TotalDays:0.#} days, the oldest any configured destination accepts.";
        }

        if (!ActionSources.Contains(actionSource))
        {
            return $"events[{index}].action_source \"{Clean(e.ActionSource)}\" is not one of {string.Join(", ", ActionSources.Order(StringComparer.Ordinal))}.";
        }

        // Meta refuses a website event without them (its batch-mates with it), so it is refused here, where the site can fix it.
        if (actionSource == "website" && _configured.Contains(CapiDestination.Meta) && _map.IsMapped(CapiDestination.Meta, e.EventName.Trim()))
        {
            if (Clean(e.User?.UserAgent) is null)
            {
                return $"events[{index}].user.user_agent is required for a website event (Meta's client_user_agent).";
            }

            if (Clean(e.PageUrl) is null)
            {
                return $"events[{index}].page_url is required for a website event (Meta's event_source_url).";
            }
        }

        if (e.Currency is { } c && (c.Trim().Length != 3 || !c.Trim().All(char.IsAsciiLetter)))
        {
            return $"events[{index}].currency must be an ISO 4217 code such as \"EUR\".";
        }

        return null;
    }

    private static string? RegionCountry(string region) =>
        region.Length >= 2 && char.IsAsciiLetter(region[0]) && char.IsAsciiLetter(region[1]) ? region[..2].ToLowerInvariant() : null;

    private static string? Clean(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static partial class Log
    {
        [LoggerMessage(EventId = 5301, Level = LogLevel.Debug, Message = "CAPI consent for {EventName} {EventId} to {Destination}: {Outcome}")]
        public static partial void ConsentDecision(ILogger logger, string eventName, string eventId, CapiDestination destination, ConsentOutcome outcome);
    }
}
