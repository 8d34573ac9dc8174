namespace TagGateway.Capi.Delivery.GoogleAnalytics;

// GA4 Measurement Protocol wire types, snake_case (Google's "Measurement Protocol reference" and "Send user-provided
// data with User-ID using the Measurement Protocol"): one request is one user (client_id, user_id, consent,
// user_data, timestamp_micros) and up to 25 events.

internal sealed class MpRequest
{
    public string ClientId { get; set; } = string.Empty;

    public string? UserId { get; set; }

    public long TimestampMicros { get; set; }

    public MpConsent? Consent { get; set; }

    public MpUserData? UserData { get; set; }

    public List<MpEvent> Events { get; set; } = [];
}

/// <summary>"GRANTED" or "DENIED".</summary>
internal sealed class MpConsent
{
    public string? AdUserData { get; set; }

    public string? AdPersonalization { get; set; }
}

/// <summary>SHA-256 hex of the normalised values; city, region, postal code and country stay plain, as Google documents.</summary>
internal sealed class MpUserData
{
    public List<string>? Sha256EmailAddress { get; set; }

    public List<string>? Sha256PhoneNumber { get; set; }

    public List<MpAddress>? Address { get; set; }
}

internal sealed class MpAddress
{
    public string? Sha256FirstName { get; set; }

    public string? Sha256LastName { get; set; }

    public string? City { get; set; }

    public string? Region { get; set; }

    public string? PostalCode { get; set; }

    public string? Country { get; set; }
}

internal sealed class MpEvent
{
    public string Name { get; set; } = string.Empty;

    public MpParams Params { get; set; } = new();
}

internal sealed class MpParams
{
    public string? TransactionId { get; set; }

    public decimal? Value { get; set; }

    public string? Currency { get; set; }

    public List<MpItem>? Items { get; set; }

    public string? SessionId { get; set; }

    /// <summary>Google's reference: needed for the event to show as user activity (Realtime); a backend event had none.</summary>
    public long? EngagementTimeMsec { get; set; }

    /// <summary>The event id, so a report can tell the server's copy apart; GA has no deduplication of its own.</summary>
    public string? EventId { get; set; }

    public string? PageLocation { get; set; }
}

internal sealed class MpItem
{
    public string? ItemId { get; set; }

    public string? ItemName { get; set; }

    public decimal? Price { get; set; }

    public int? Quantity { get; set; }
}

/// <summary>The validation server's answer (<c>/debug/mp/collect</c>): empty validation_messages means valid.</summary>
internal sealed class MpValidationResponse
{
    public List<MpValidationMessage> ValidationMessages { get; set; } = [];
}

internal sealed class MpValidationMessage
{
    public string? FieldPath { get; set; }

    public string? Description { get; set; }

    public string? ValidationCode { get; set; }
}

/// <summary>What POST /capi/google-analytics/validate answers: Google's status and messages for one sample event.</summary>
internal sealed class MpValidationResult
{
    public int Status { get; set; }

    public bool Valid { get; set; }

    public string Endpoint { get; set; } = string.Empty;

    public List<MpValidationMessage> ValidationMessages { get; set; } = [];

    public string? Error { get; set; }
}
