namespace TagGateway.Capi.Delivery.GoogleAds;

// Data Manager API events:ingest wire types (conversion-apis.md §4), camelCase.

internal sealed class IngestEventsRequest
{
    public List<GoogleDestination> Destinations { get; set; } = [];

    public List<GoogleEvent> Events { get; set; } = [];

    /// <summary>Required whenever userData is present.</summary>
    public string Encoding { get; set; } = "HEX";

    public bool? ValidateOnly { get; set; }
}

internal sealed class GoogleDestination
{
    public string? Reference { get; set; }

    public GoogleAccount OperatingAccount { get; set; } = new();

    public GoogleAccount? LoginAccount { get; set; }

    public string ProductDestinationId { get; set; } = string.Empty;
}

internal sealed class GoogleAccount
{
    public string AccountType { get; set; } = "GOOGLE_ADS";

    public string AccountId { get; set; } = string.Empty;
}

internal sealed class GoogleEvent
{
    public List<string>? DestinationReferences { get; set; }

    public string? TransactionId { get; set; }

    /// <summary>RFC 3339.</summary>
    public string EventTimestamp { get; set; } = string.Empty;

    public decimal? ConversionValue { get; set; }

    public string? Currency { get; set; }

    public string EventSource { get; set; } = "WEB";

    public string? ClientId { get; set; }

    public GoogleUserData? UserData { get; set; }

    public GoogleAdIdentifiers? AdIdentifiers { get; set; }

    public GoogleConsent? Consent { get; set; }
}

internal sealed class GoogleUserData
{
    public List<GoogleUserIdentifier> UserIdentifiers { get; set; } = [];
}

/// <summary>A oneof: email, phone or address.</summary>
internal sealed class GoogleUserIdentifier
{
    public string? EmailAddress { get; set; }

    public string? PhoneNumber { get; set; }

    public GoogleAddress? Address { get; set; }
}

internal sealed class GoogleAddress
{
    public string GivenName { get; set; } = string.Empty;

    public string FamilyName { get; set; } = string.Empty;

    /// <summary>Plain, upper-case ISO code.</summary>
    public string RegionCode { get; set; } = string.Empty;

    /// <summary>Plain.</summary>
    public string PostalCode { get; set; } = string.Empty;
}

internal sealed class GoogleAdIdentifiers
{
    public string? Gclid { get; set; }

    public string? Gbraid { get; set; }

    public string? Wbraid { get; set; }

    public GoogleDeviceInfo? LandingPageDeviceInfo { get; set; }
}

internal sealed class GoogleDeviceInfo
{
    public string? UserAgent { get; set; }

    public string? IpAddress { get; set; }
}

internal sealed class GoogleConsent
{
    public string AdUserData { get; set; } = "CONSENT_DENIED";

    public string AdPersonalization { get; set; } = "CONSENT_DENIED";
}

internal sealed class GoogleErrorResponse
{
    public GoogleError? Error { get; set; }
}

internal sealed class GoogleError
{
    public int Code { get; set; }

    public string? Message { get; set; }

    public string? Status { get; set; }
}
