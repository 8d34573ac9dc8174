using Microsoft.Extensions.Options;

namespace TagGateway.Capi.Configuration;

/// <summary>Rules spanning fields (and files); every problem is reported at once so one pass fixes the configuration.</summary>
internal sealed class CapiOptionsCrossFieldValidator : IValidateOptions<CapiOptions>
{
    internal const int MinApiKeyLength = 24;
    internal const string LinkedInRulePrefix = "urn:lla:llaPartnerConversion:";

    public ValidateOptionsResult Validate(string? name, CapiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();

        Check(options.Meta, "Meta", errors);
        Check(options.TikTok, "TikTok", errors);
        Check(options.LinkedIn, "LinkedIn", errors);
        Check(options.GoogleAds, "GoogleAds", errors);
        Check(options.GoogleAnalytics, "GoogleAnalytics", errors);
        Range(options.GoogleAnalytics.GapFillWindow, TimeSpan.Zero, TimeSpan.FromHours(1), "Capi:GoogleAnalytics:GapFillWindow", errors);
        if (!IsGraphApiVersion(options.Meta.ApiVersion))
        {
            errors.Add($"Capi:Meta:ApiVersion: \"{options.Meta.ApiVersion}\" must be a Graph API version such as v24.0.");
        }

        foreach ((var ga4, var urn) in options.LinkedIn.Conversions)
        {
            if (string.IsNullOrWhiteSpace(urn))
            {
                continue;
            }

            if (!urn.StartsWith(LinkedInRulePrefix, StringComparison.Ordinal) || !ulong.TryParse(urn.AsSpan(LinkedInRulePrefix.Length), out _))
            {
                errors.Add($"Capi:LinkedIn:Conversions:{ga4}: \"{urn}\" must be a conversion rule URN such as {LinkedInRulePrefix}123456.");
            }
        }

        foreach ((var ga4, var action) in options.GoogleAds.ConversionActions)
        {
            if (string.IsNullOrWhiteSpace(action))
            {
                continue;
            }

            if (!ulong.TryParse(action, out _))
            {
                errors.Add($"Capi:GoogleAds:ConversionActions:{ga4}: \"{action}\" must be the numeric conversion action id.");
            }
        }

        if (options.GoogleAds.ConversionActions.Values.Any(static v => !string.IsNullOrWhiteSpace(v)) && string.IsNullOrEmpty(options.GoogleAds.CustomerId))
        {
            errors.Add("Capi:GoogleAds:CustomerId is required when conversion actions are configured.");
        }

        foreach (var key in SecretReader.ApiKeys(options.Ingest, errors))
        {
            if (key.Length < MinApiKeyLength)
            {
                errors.Add($"Capi:Ingest:ApiKeys: every key must have at least {MinApiKeyLength} characters.");
                break;
            }
        }

        // TimeSpan ranges are checked here: RangeAttribute over TimeSpan needs reflection (not trimming-safe).
        Range(options.Ingest.MaxFutureSkew, TimeSpan.Zero, TimeSpan.FromHours(1), "Capi:Ingest:MaxFutureSkew", errors);
        Range(options.MergeWindow, TimeSpan.Zero, TimeSpan.FromHours(1), "Capi:MergeWindow", errors);
        Range(options.DedupTtl, TimeSpan.FromMinutes(1), TimeSpan.FromDays(30), "Capi:DedupTtl", errors);
        Range(options.Store.DeadLetterRetention, TimeSpan.FromMinutes(1), TimeSpan.FromDays(90), "Capi:Store:DeadLetterRetention", errors);
        Range(options.Delivery.RetryBaseDelay, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(1), "Capi:Delivery:RetryBaseDelay", errors);
        Range(options.Delivery.MinBackoff, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1), "Capi:Delivery:MinBackoff", errors);
        Range(options.Delivery.MaxBackoff, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(6), "Capi:Delivery:MaxBackoff", errors);
        Range(options.Delivery.BreakerSamplingDuration, TimeSpan.FromMilliseconds(500), TimeSpan.FromMinutes(30), "Capi:Delivery:BreakerSamplingDuration", errors);
        Range(options.Delivery.BreakerBreakDuration, TimeSpan.FromMilliseconds(500), TimeSpan.FromMinutes(30), "Capi:Delivery:BreakerBreakDuration", errors);
        Range(options.Delivery.PollInterval, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(1), "Capi:Delivery:PollInterval", errors);

        if (options.Store.Kind == CapiStoreKind.Redis && !Storage.Redis.RedisStoreFeature.IsSupported)
        {
            errors.Add($"Capi:Store:Kind: Redis, but this build was trimmed without the Redis store ({Storage.Redis.RedisStoreFeature.Switch}=false).");
        }

        if (options.Store.Kind == CapiStoreKind.Redis)
        {
            var redis = options.Store.Redis;
            Range(redis.ClaimIdle, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1), "Capi:Store:Redis:ClaimIdle", errors);
            Range(redis.ConsumerTtl, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(10), "Capi:Store:Redis:ConsumerTtl", errors);
            Range(redis.OperationTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(1), "Capi:Store:Redis:OperationTimeout", errors);
            if (redis.ClaimIdle < redis.ConsumerTtl)
            {
                // A claimer must not find a live instance's entries idle before that instance's heartbeat can lapse.
                errors.Add("Capi:Store:Redis:ClaimIdle must not be shorter than Capi:Store:Redis:ConsumerTtl.");
            }

            if (redis.ClaimIdle <= options.MergeWindow)
            {
                // Entries wait out the merge window in their reader's pending list; shorter, and instances would claim them back and forth.
                errors.Add("Capi:Store:Redis:ClaimIdle must be longer than Capi:MergeWindow.");
            }
        }

        if (options.Delivery.MaxBackoff < options.Delivery.MinBackoff)
        {
            errors.Add("Capi:Delivery:MaxBackoff must not be shorter than Capi:Delivery:MinBackoff.");
        }

        var keysPerRequest = (long)options.Ingest.MaxEventsPerRequest * Math.Max(1, Ingest.EventFactory.ConfiguredDestinations(options).Count());
        if (options.Store.Kind == CapiStoreKind.Journal && Dedup.FingerprintLedger.KeysAfterEviction(options.Store.LedgerMaxBytes) < 2 * keysPerRequest)
        {
            // Smaller, and one full request could evict the keys of the one before it: the window would be a request long.
            errors.Add($"Capi:Store:LedgerMaxBytes: {options.Store.LedgerMaxBytes} bytes hold {Dedup.FingerprintLedger.KeysAfterEviction(options.Store.LedgerMaxBytes)} keys after an eviction, fewer than two full requests' worth ({2 * keysPerRequest}: Capi:Ingest:MaxEventsPerRequest × destinations × 2).");
        }

        if (options.Store.SegmentBytes * 2 > options.Store.MaxBytes)
        {
            errors.Add("Capi:Store:MaxBytes must be at least twice Capi:Store:SegmentBytes (compaction needs room).");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void Range(TimeSpan value, TimeSpan min, TimeSpan max, string key, List<string> errors)
    {
        if (value < min || value > max)
        {
            errors.Add($"{key}: {value} is outside {min} to {max}.");
        }
    }

    private static void Check(DestinationOptions destination, string section, List<string> errors)
    {
        Range(destination.MaxEventAge, TimeSpan.FromMinutes(1), TimeSpan.FromDays(400), $"Capi:{section}:MaxEventAge", errors);
        Range(destination.AttemptTimeout, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(5), $"Capi:{section}:AttemptTimeout", errors);
        if (!Uri.TryCreate(destination.BaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            errors.Add($"Capi:{section}:BaseUrl: \"{destination.BaseUrl}\" must be an absolute http(s) URL.");
        }

        if (destination.MaxBatchSize > destination.PlatformMaxBatch)
        {
            errors.Add($"Capi:{section}:MaxBatchSize: {destination.MaxBatchSize} is over the platform's limit of {destination.PlatformMaxBatch}.");
        }

        if (!destination.IsConfigured)
        {
            return;
        }

        if (destination is GoogleAdsOptions google && google.UsesRefreshToken)
        {
            if (SecretReader.GoogleOAuth(google, errors) is null)
            {
                errors.Add("Capi:GoogleAds: the refresh-token flow needs RefreshToken, ClientId and ClientSecret (each from the environment or a …File).");
            }

            if (!Uri.TryCreate(google.TokenEndpoint, UriKind.Absolute, out var token) || (token.Scheme != Uri.UriSchemeHttps && token.Scheme != Uri.UriSchemeHttp))
            {
                errors.Add($"Capi:GoogleAds:TokenEndpoint: \"{google.TokenEndpoint}\" must be an absolute http(s) URL.");
            }

            Range(google.TokenRefreshMargin, TimeSpan.Zero, TimeSpan.FromMinutes(30), "Capi:GoogleAds:TokenRefreshMargin", errors);
            return;
        }

        if (destination is GoogleAnalyticsOptions analytics)
        {
            if (SecretReader.Secret(analytics.ApiSecret, analytics.ApiSecretFile, "Capi:GoogleAnalytics:ApiSecret", errors) is null)
            {
                errors.Add("Capi:GoogleAnalytics: an API secret is required (Capi:GoogleAnalytics:ApiSecret from the environment, or Capi:GoogleAnalytics:ApiSecretFile).");
            }

            return;
        }

        if (SecretReader.AccessToken(destination, section, errors) is null)
        {
            errors.Add($"Capi:{section}: an access token is required (Capi:{section}:AccessToken from the environment, or Capi:{section}:AccessTokenFile{(destination is GoogleAdsOptions ? "; or the OAuth refresh-token flow: RefreshToken, ClientId, ClientSecret" : null)}).");
        }
    }

    /// <summary>"v" then 1-3 digits, a dot and one digit (v24.0), as Graph API versions are written.</summary>
    internal static bool IsGraphApiVersion(string? version)
    {
        if (string.IsNullOrEmpty(version) || version[0] != 'v')
        {
            return false;
        }

        var dot = version.IndexOf('.', StringComparison.Ordinal);
        return dot is >= 2 and <= 4 && dot == version.Length - 2
            && !version.AsSpan(1, dot - 1).ContainsAnyExceptInRange('0', '9') && char.IsAsciiDigit(version[^1]);
    }
}
