using TagGateway.Capi.Mapping;

namespace TagGateway.Capi.Ingest;

// The server-to-server payload (POST /capi/v1/events), snake_case. README documents every field.

internal sealed class ServerEventBatch
{
    public List<ServerEvent>? Events { get; set; }
}

internal sealed class ServerEvent
{
    /// <summary>GA4 event name (purchase, generate_lead …), mapped per platform like the browser's.</summary>
    public string? EventName { get; set; }

    /// <summary>The dedup key shared with the browser (ep.event_id); else the transaction id of a purchase.</summary>
    public string? EventId { get; set; }

    /// <summary>Unix seconds; absent means now.</summary>
    public long? EventTime { get; set; }

    public string? ActionSource { get; set; }

    public string? PageUrl { get; set; }

    public string? Referrer { get; set; }

    public string? ClientId { get; set; }

    /// <summary>The visitor's <c>_ga</c> cookie value (GA1.1.&lt;client id&gt;): Google Analytics' client_id when client_id is absent.</summary>
    public string? GaCookie { get; set; }

    /// <summary>The first-party FPID cookie: Google Analytics' client_id when neither of the above is given.</summary>
    public string? Fpid { get; set; }

    /// <summary>The site's own user id, sent to Google Analytics as user_id (only there, and only as given).</summary>
    public string? UserId { get; set; }

    /// <summary>GA4 session id (the <c>_ga_&lt;stream&gt;</c> cookie's session), so the event lands in the visitor's session.</summary>
    public string? SessionId { get; set; }

    public string? TransactionId { get; set; }

    public string? Currency { get; set; }

    public decimal? Value { get; set; }

    public List<ServerItem>? Items { get; set; }

    /// <summary>Clear text or already SHA-256 hex; never-hashed fields as they are. Read straight into the domain input.</summary>
    public UserInput? User { get; set; }

    public ServerConsent? Consent { get; set; }

    /// <summary>The visitor's region (CC or CC-RR) for the consent defaults; absent means the strict defaults.</summary>
    public string? Region { get; set; }
}

internal sealed class ServerItem
{
    public string? Id { get; set; }

    public string? Name { get; set; }

    public decimal? Price { get; set; }

    public int? Quantity { get; set; }
}

/// <summary>
/// Consent as the site recorded it: explicit states ("granted"/"denied") and/or the gcs/gcd strings of the visitor's
/// session. A type left out is not granted by default: the region's defaults decide (strict regions deny).
/// </summary>
internal sealed class ServerConsent
{
    public string? AdStorage { get; set; }

    public string? AnalyticsStorage { get; set; }

    public string? AdUserData { get; set; }

    public string? AdPersonalization { get; set; }

    public string? Gcs { get; set; }

    public string? Gcd { get; set; }

    /// <summary>The visitor's browser sent Sec-GPC: 1.</summary>
    public bool? Gpc { get; set; }
}

internal sealed class IngestResponse
{
    public int Accepted { get; set; }

    public int Merged { get; set; }

    public int Duplicates { get; set; }

    public int NotSent { get; set; }

    public List<IngestEventStatus> Events { get; set; } = [];
}

internal sealed class IngestEventStatus
{
    public string EventId { get; set; } = string.Empty;

    /// <summary>accepted, merged, duplicate or not_sent (no destination takes it: unmapped or consent denied).</summary>
    public string Status { get; set; } = string.Empty;
}

internal sealed class ErrorBody
{
    public string Error { get; set; } = string.Empty;
}
