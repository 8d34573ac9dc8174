namespace TagGateway.Consent.Management;

/// <summary>POST /consent/explain body (application/json). A text body with ?url=… is accepted too.</summary>
internal sealed class ExplainRequest
{
    /// <summary>The collect URL, e.g. https://site/g/collect?v=2&amp;gcs=G101…, or just its query.</summary>
    public string? Url { get; set; }

    /// <summary>The batched hit body, one event per line; omit for a GET-style hit.</summary>
    public string? Body { get; set; }

    /// <summary>Region code such as "DE" or "US-CA"; empty means unknown (strict defaults).</summary>
    public string? Region { get; set; }

    /// <summary>Whether the hit came with Sec-GPC: 1. When omitted, the explain request's own Sec-GPC header is used.</summary>
    public bool? Gpc { get; set; }
}

internal sealed class ExplainResponse
{
    public required string Region { get; init; }

    public required bool Gpc { get; init; }

    public required IReadOnlyList<ExplainEvent> Events { get; init; }
}

internal sealed class ExplainEvent
{
    /// <summary>1-based body line; 0 when the URL alone is the event.</summary>
    public required int Line { get; init; }

    public string? EventName { get; init; }

    public required string RegionProfile { get; init; }

    public required ExplainSignals Signals { get; init; }

    public required IReadOnlyList<ExplainConsentType> Consent { get; init; }

    public required IReadOnlyList<ExplainDestination> Destinations { get; init; }
}

internal sealed class ExplainSignals
{
    public string? Gcs { get; init; }

    public required string GcsStatus { get; init; }

    public string? Gcd { get; init; }

    public required string GcdStatus { get; init; }

    public required string Npa { get; init; }

    public required string Dma { get; init; }

    public required bool DmaPurposes { get; init; }

    public required bool ConsentUpdated { get; init; }

    public required string Gdpr { get; init; }

    public required string GdprConsent { get; init; }

    public required string Gpp { get; init; }

    public required string GppSid { get; init; }

    public required bool Gpc { get; init; }
}

internal sealed class ExplainConsentType
{
    public required string Type { get; init; }

    public required string Default { get; init; }

    public required string Update { get; init; }

    public required string Gcs { get; init; }

    public required string Effective { get; init; }

    public required string Source { get; init; }

    /// <summary>Where a denial came from: none (granted), update (the visitor said no), default, region_default, unreadable, gpc, npa.</summary>
    public required string Denial { get; init; }

    /// <summary>The gcd letter for this type when it is outside the documented nine (read as not set).</summary>
    public string? UnknownGcdLetter { get; init; }
}

internal sealed class ExplainDestination
{
    public required string Name { get; init; }

    public required string Outcome { get; init; }

    public required bool MaySend { get; init; }

    public required bool MayUseIdentifiers { get; init; }

    /// <summary>Stored identifiers for this destination are expired: the visitor refused a type they need.</summary>
    public required bool IdentifiersWithdrawn { get; init; }

    public required bool MayAttachUserData { get; init; }

    public required bool Restricted { get; init; }

    public required string RestrictedForm { get; init; }
}

internal sealed class ExplainError
{
    public required string Error { get; init; }
}
