using System.Collections.Frozen;
using TagGateway.Capi.Configuration;
using TagGateway.Configuration;
using TagGateway.Consent.Configuration;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;
using TagGateway.Cookies.Rules;

namespace TagGateway.CommandLine;

/// <summary>
/// Every configuration key an options type binds under <c>Gateway:</c>, <c>Capi:</c>, <c>Consent:</c> and <c>Cookies:</c>,
/// as patterns (<c>*</c> is one list index or dictionary key). Hand-maintained because reading the options types at run
/// time needs reflection (not AOT-clean); <c>KnownKeysTests</c> walks the types with reflection and fails on any drift.
/// </summary>
internal static class KnownKeys
{
    /// <summary>The sections whose unbound keys are reported.</summary>
    public static readonly string[] Sections = ["Gateway", "Capi", "Consent", "Cookies"];

    public static readonly string[] Patterns =
    [
        // Gateway (GatewayOptions)
        "Gateway:PublicUrl", "Gateway:ManagementUrl", "Gateway:MeasurementPath", "Gateway:TagIds:*", "Gateway:SiteHosts:*",
        "Gateway:Mode", "Gateway:ShutdownDelay", "Gateway:DataPath",
        "Gateway:Upstreams:TagGatewayOrigin", "Gateway:Upstreams:TagGatewayHost", "Gateway:Upstreams:TagManager",
        "Gateway:Upstreams:Analytics", "Gateway:Upstreams:Ads",
        "Gateway:ClientIdentity:Edge", "Gateway:ClientIdentity:TrustedProxies:*", "Gateway:ClientIdentity:EdgeSecret",
        "Gateway:ClientIdentity:ForwardClientIp",
        "Gateway:Scripts:MaxEntries", "Gateway:Scripts:MaxCacheBytes", "Gateway:Scripts:DefaultMaxAge", "Gateway:Scripts:MaxMaxAge",
        "Gateway:Scripts:StaleWhileRevalidate", "Gateway:Scripts:StaleIfError", "Gateway:Scripts:MaxBodyBytes",
        "Gateway:Scripts:FetchTimeout", "Gateway:Scripts:MaxMissesPerSecond", "Gateway:Scripts:MissBurst",
        "Gateway:Forwarding:MaxBodyBytes", "Gateway:Forwarding:ConnectTimeout", "Gateway:Forwarding:ResponseTimeout",
        "Gateway:Forwarding:MaxRequestHeadersBytes", "Gateway:Forwarding:MaxRequestLineBytes",
        "Gateway:Forwarding:Client", "Gateway:Forwarding:MaxConnectionsPerOrigin", "Gateway:Forwarding:ConnectionIdleTimeout",
        "Gateway:Forwarding:ConnectionLifetime",
        "Gateway:Demo:Enabled", "Gateway:Demo:UpstreamUrl",
        "Gateway:Limits:MaxConnections", "Gateway:Limits:MaxManagementConnections", "Gateway:Limits:MaxUpgradedConnections",
        "Gateway:Limits:KeepAliveTimeout", "Gateway:Limits:RequestHeadersTimeout", "Gateway:Limits:MinRequestBodyBytesPerSecond",
        "Gateway:Limits:MinRequestBodyGracePeriod",
        "Gateway:Management:UiEnabled", "Gateway:Management:LiveViewCapacity", "Gateway:Management:DiagnosticToken",

        // Consent (ConsentOptions)
        .. Region("Consent:StrictDefaults"), .. Region("Consent:OtherDefaults"), .. Region("Consent:RegionDefaults:*"),
        "Consent:Destinations:*:Enabled", "Consent:Destinations:*:SendRequires", "Consent:Destinations:*:IdentifiersRequire",
        "Consent:Destinations:*:UserDataRequires", "Consent:Destinations:*:WhenPersonalizationDenied",
        "Consent:Destinations:*:RestrictedForm", "Consent:Destinations:*:BlockOnGpc",
        "Consent:Log:Mode", "Consent:Log:Path", "Consent:Log:SampleRate", "Consent:Log:MaxFileBytes", "Consent:Log:MaxFiles",
        "Consent:Log:ClientIdSalt", "Consent:Log:QueueCapacity",

        // Cookies (FirstPartyCookieOptions)
        "Cookies:Enabled", "Cookies:Domain", "Cookies:PublicSuffixListPath", "Cookies:RefreshInterval", "Cookies:ServerIdName",
        "Cookies:ServerCopyPrefix", "Cookies:Identifiers:*:Enabled", "Cookies:Identifiers:*:Destination",
        "Cookies:Identifiers:*:Format", "Cookies:Identifiers:*:MaxAge", "Cookies:Identifiers:*:KeepServerCopy",

        // Capi (CapiOptions)
        .. Destination("Capi:Meta"), "Capi:Meta:PixelId", "Capi:Meta:ApiVersion", "Capi:Meta:TestEventCode",
        "Capi:Meta:AlwaysLimitedDataUse", "Capi:Meta:LimitedDataUseCountry", "Capi:Meta:LimitedDataUseState",
        .. Destination("Capi:TikTok"), "Capi:TikTok:PixelCode", "Capi:TikTok:TestEventCode", "Capi:TikTok:PhoneFormat",
        .. Destination("Capi:LinkedIn"), "Capi:LinkedIn:Version", "Capi:LinkedIn:Conversions:*",
        .. Destination("Capi:GoogleAds"), "Capi:GoogleAds:CustomerId", "Capi:GoogleAds:LoginCustomerId",
        "Capi:GoogleAds:ConversionActions:*", "Capi:GoogleAds:ValidateOnly", "Capi:GoogleAds:RefreshToken", "Capi:GoogleAds:RefreshTokenFile",
        "Capi:GoogleAds:ClientId", "Capi:GoogleAds:ClientIdFile", "Capi:GoogleAds:ClientSecret", "Capi:GoogleAds:ClientSecretFile",
        "Capi:GoogleAds:TokenEndpoint", "Capi:GoogleAds:TokenRefreshMargin",
        .. Destination("Capi:GoogleAnalytics"), "Capi:GoogleAnalytics:MeasurementId", "Capi:GoogleAnalytics:ApiSecret",
        "Capi:GoogleAnalytics:ApiSecretFile", "Capi:GoogleAnalytics:GapFillWindow",
        "Capi:Ingest:ApiKeys:*", "Capi:Ingest:ApiKeyFile", "Capi:Ingest:MaxRequestBytes", "Capi:Ingest:MaxEventsPerRequest",
        "Capi:Ingest:MaxFutureSkew",
        "Capi:Store:Kind", "Capi:Store:Path", "Capi:Store:MaxBytes", "Capi:Store:MaxMemoryBytes", "Capi:Store:LedgerMaxBytes", "Capi:Store:SegmentBytes",
        "Capi:Store:DeadLetterRetention",
        "Capi:Store:Redis:Configuration", "Capi:Store:Redis:KeyPrefix", "Capi:Store:Redis:ConsumerName", "Capi:Store:Redis:ClaimIdle",
        "Capi:Store:Redis:ConsumerTtl", "Capi:Store:Redis:OperationTimeout", "Capi:Store:Redis:WaitReplicas",
        "Capi:Store:Redis:SpillPath", "Capi:Store:Redis:SpillMaxBytes",
        "Capi:Delivery:RetryAttempts", "Capi:Delivery:RetryBaseDelay", "Capi:Delivery:MinBackoff", "Capi:Delivery:MaxBackoff",
        "Capi:Delivery:BreakerFailureRatio", "Capi:Delivery:BreakerMinimumThroughput", "Capi:Delivery:BreakerSamplingDuration",
        "Capi:Delivery:BreakerBreakDuration", "Capi:Delivery:PollInterval",
        "Capi:MergeWindow", "Capi:DedupTtl", "Capi:DefaultPhoneCountryCode", "Capi:HitQueueCapacity",
    ];

    /// <summary>
    /// Enum-valued keys and their allowed names. Names are matched without regard to case and bound as the canonical
    /// name (what the binder does); numbers are refused, so a value is always one of the names listed.
    /// </summary>
    public static readonly (string Pattern, string[] Names, bool Flags)[] Enums =
    [
        ("Gateway:Mode", Enum.GetNames<GatewayMode>(), false),
        ("Gateway:Forwarding:Client", Enum.GetNames<ForwardingClient>(), false),
        ("Gateway:ClientIdentity:Edge", Enum.GetNames<EdgeKind>(), false),
        .. RegionEnums("Consent:StrictDefaults"), .. RegionEnums("Consent:OtherDefaults"), .. RegionEnums("Consent:RegionDefaults:*"),
        ("Consent:Destinations:*:SendRequires", Enum.GetNames<ConsentTypes>(), true),
        ("Consent:Destinations:*:IdentifiersRequire", Enum.GetNames<ConsentTypes>(), true),
        ("Consent:Destinations:*:UserDataRequires", Enum.GetNames<ConsentTypes>(), true),
        ("Consent:Destinations:*:WhenPersonalizationDenied", Enum.GetNames<PersonalizationDeniedAction>(), false),
        ("Consent:Destinations:*:RestrictedForm", Enum.GetNames<RestrictedForm>(), false),
        ("Consent:Log:Mode", Enum.GetNames<ConsentLogMode>(), false),
        ("Cookies:Identifiers:*:Destination", Enum.GetNames<ConsentDestination>(), false),
        ("Cookies:Identifiers:*:Format", Enum.GetNames<CookieFormat>(), false),
        ("Capi:TikTok:PhoneFormat", Enum.GetNames<PhoneHashFormat>(), false),
        ("Capi:Store:Kind", Enum.GetNames<CapiStoreKind>(), false),
    ];

    private static readonly FrozenSet<string> SectionSet = Sections.ToFrozenSet(StringComparer.OrdinalIgnoreCase);

    private static string[] Region(string prefix) =>
        [prefix + ":AdStorage", prefix + ":AnalyticsStorage", prefix + ":AdUserData", prefix + ":AdPersonalization"];

    private static (string, string[], bool)[] RegionEnums(string prefix) =>
        [.. Region(prefix).Select(static key => (key, Enum.GetNames<ConsentDefault>(), false))];

    private static string[] Destination(string prefix) =>
    [
        prefix + ":Enabled", prefix + ":BaseUrl", prefix + ":AccessToken", prefix + ":AccessTokenFile", prefix + ":MaxBatchSize",
        prefix + ":MaxEventAge", prefix + ":AttemptTimeout", prefix + ":Events:*",
    ];

    /// <summary>Whether a key is under a section whose keys are checked.</summary>
    public static bool IsChecked(string key)
    {
        var colon = key.IndexOf(':', StringComparison.Ordinal);
        return SectionSet.Contains(colon < 0 ? key : key[..colon]);
    }

    public static bool Matches(string pattern, string key)
    {
        var p = pattern.AsSpan();
        var k = key.AsSpan();
        while (true)
        {
            int pc = p.IndexOf(':'), kc = k.IndexOf(':');
            var ps = pc < 0 ? p : p[..pc];
            var ks = kc < 0 ? k : k[..kc];
            if (!(ps is "*" ? ks.Length > 0 : ps.Equals(ks, StringComparison.OrdinalIgnoreCase)))
            {
                return false;
            }

            if (pc < 0 || kc < 0)
            {
                return pc < 0 && kc < 0;
            }

            p = p[(pc + 1)..];
            k = k[(kc + 1)..];
        }
    }

    public static bool IsKnown(string key) => Patterns.Any(p => Matches(p, key));

    /// <summary>The known key nearest to a misspelled one (edit distance, wildcards filled from the key), or null when none is close.</summary>
    public static string? Suggest(string key)
    {
        var segments = key.Split(':');
        string? best = null;
        var bestDistance = int.MaxValue;
        foreach (var pattern in Patterns)
        {
            var parts = pattern.Split(':');
            for (var i = 0; i < parts.Length; i++)
            {
                if (parts[i] == "*")
                {
                    parts[i] = i < segments.Length ? segments[i] : "0";
                }
            }

            var candidate = string.Join(':', parts);
            var distance = EditDistance(key.ToUpperInvariant(), candidate.ToUpperInvariant());
            if (distance < bestDistance)
            {
                (best, bestDistance) = (candidate, distance);
            }
        }

        // Close enough to be the same key mistyped: a third of what follows the section, at least one edit.
        var section = key.IndexOf(':', StringComparison.Ordinal);
        return bestDistance <= Math.Max(1, (key.Length - section - 1) / 3) ? best : null;
    }

    /// <summary>Why an enum-valued key's value cannot bind, or null when it can (or the key is not enum-valued).</summary>
    public static string? EnumError(string key, string value)
    {
        foreach ((var pattern, var names, var flags) in Enums)
        {
            if (!Matches(pattern, key))
            {
                continue;
            }

            var values = flags ? value.Split(',', StringSplitOptions.TrimEntries) : [value.Trim()];
            var ok = values.All(v => names.Any(n => n.Equals(v, StringComparison.OrdinalIgnoreCase)));
            return ok ? null : $"{key} is '{value}'; allowed values: {string.Join(", ", names)}{(flags ? " (several separated by commas)" : string.Empty)} (case does not matter).";
        }

        return null;
    }

    /// <summary>Unbound keys under the checked sections with a suggestion each, and enum values no name matches.</summary>
    public static (List<string> Unknown, List<string> EnumErrors) Check(IConfiguration configuration)
    {
        var unknown = new List<string>();
        var enumErrors = new List<string>();
        foreach ((var key, var value) in configuration.AsEnumerable())
        {
            if (!IsChecked(key) || value is null)
            {
                continue;
            }

            if (!IsKnown(key))
            {
                // A parent key with an empty value (`Gateway__TagIds=`) is a section, not a misspelling.
                if (value.Length == 0 && Patterns.Any(p => p.StartsWith(key + ":", StringComparison.OrdinalIgnoreCase)))
                {
                    continue;
                }

                var suggestion = Suggest(key);
                unknown.Add(suggestion is null
                    ? $"{key} is not a known key (TagGateway --help lists the common ones; TagGateway check-config shows what is set)."
                    : $"{key} is not a known key; did you mean `{suggestion}`?");
            }
            else if (EnumError(key, value) is { } error)
            {
                enumErrors.Add(error);
            }
        }

        unknown.Sort(StringComparer.Ordinal);
        enumErrors.Sort(StringComparer.Ordinal);
        return (unknown, enumErrors);
    }

    internal static int EditDistance(string a, string b)
    {
        var row = b.Length < 256 ? stackalloc int[b.Length + 1] : new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            row[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }

        return row[b.Length];
    }
}
