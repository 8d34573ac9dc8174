using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace TagGateway.Capi.Configuration;

/// <summary>
/// The <c>Capi</c> section, bound by the configuration-binding generator. The module is on only when at least one
/// destination is configured (<see cref="DestinationOptions.IsConfigured"/>); with none, nothing is registered.
/// </summary>
public sealed class CapiOptions
{
    public const string SectionName = "Capi";

    [ValidateObjectMembers]
    public MetaOptions Meta { get; set; } = new();

    [ValidateObjectMembers]
    public TikTokOptions TikTok { get; set; } = new();

    [ValidateObjectMembers]
    public LinkedInOptions LinkedIn { get; set; } = new();

    [ValidateObjectMembers]
    public GoogleAdsOptions GoogleAds { get; set; } = new();

    [ValidateObjectMembers]
    public GoogleAnalyticsOptions GoogleAnalytics { get; set; } = new();

    [ValidateObjectMembers]
    public IngestOptions Ingest { get; set; } = new();

    [ValidateObjectMembers]
    public StoreOptions Store { get; set; } = new();

    [ValidateObjectMembers]
    public DeliveryOptions Delivery { get; set; } = new();

    /// <summary>
    /// How long an accepted event waits before its first delivery, so a browser hit and the backend's report of the
    /// same purchase can be merged into one, richer send. Zero sends at once (and merges only what arrives before).
    /// </summary>
    public TimeSpan MergeWindow { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a (destination, event name, event id) is remembered, so it is sent once (Meta and TikTok dedup for 48 h).</summary>
    public TimeSpan DedupTtl { get; set; } = TimeSpan.FromHours(48);

    /// <summary>Calling code for phone numbers without one when the event carries no country (e.g. "1" for the US); none: such numbers are dropped.</summary>
    [AsciiToken("0-9", 1, 3)]
    public string? DefaultPhoneCountryCode { get; set; }

    /// <summary>Hit queue between the host and the pipeline; when full, hits are counted and skipped (the hit itself was forwarded).</summary>
    [Range(100, 1_000_000)]
    public int HitQueueCapacity { get; set; } = 10_000;

    internal bool AnyDestinationConfigured => Meta.IsConfigured || TikTok.IsConfigured || LinkedIn.IsConfigured || GoogleAds.IsConfigured || GoogleAnalytics.IsConfigured;
}

/// <summary>What every destination has: where, how it authenticates, how it batches and retries.</summary>
public abstract class DestinationOptions
{
    /// <summary>Turns a configured destination off without removing its settings.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The API's origin; tests point it at a loopback fake.</summary>
    [Required]
    public string BaseUrl { get; set; } = string.Empty;

    /// <summary>The access token; prefer the environment (Capi__Meta__AccessToken) or <see cref="AccessTokenFile"/>. Never logged.</summary>
    public string? AccessToken { get; set; }

    /// <summary>A file holding the access token (a mounted secret); read once at start, surrounding blanks trimmed.</summary>
    public string? AccessTokenFile { get; set; }

    /// <summary>Events per request; capped by the platform's limit.</summary>
    [Range(1, 5000)]
    public int MaxBatchSize { get; set; }

    /// <summary>Events older than this are dropped before a batch is built (Meta rejects a whole batch for one stale event).</summary>
    public TimeSpan MaxEventAge { get; set; }

    /// <summary>Per-attempt HTTP timeout.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>GA4 event name to the platform's event (Capi:Meta:Events:purchase = Purchase); an empty value stops that event.</summary>
    public Dictionary<string, string> Events { get; set; } = new(StringComparer.Ordinal);

    internal abstract bool HasIdentity { get; }

    internal bool IsConfigured => Enabled && HasIdentity;

    internal abstract int PlatformMaxBatch { get; }
}

public sealed class MetaOptions : DestinationOptions
{
    public MetaOptions()
    {
        BaseUrl = "https://graph.facebook.com";
        MaxBatchSize = 1000;
        MaxEventAge = TimeSpan.FromDays(7);
    }

    /// <summary>The dataset (pixel) id; setting it turns Meta on.</summary>
    [AsciiToken("0-9", 1, 32)]
    public string? PixelId { get; set; }

    [AsciiToken("0-9.", 3, 5, Prefix = "v")]
    public string ApiVersion { get; set; } = "v24.0";

    /// <summary>Events Manager's test code; events then show in Test Events only.</summary>
    public string? TestEventCode { get; set; }

    /// <summary>Sent in Limited Data Use form (<c>data_processing_options: ["LDU"]</c>) for every event, not only where consent restricts.</summary>
    public bool AlwaysLimitedDataUse { get; set; }

    /// <summary>LDU country (1 = USA, 0 = let Meta geolocate) and state (1000 California … or 0).</summary>
    [Range(0, 1)]
    public int LimitedDataUseCountry { get; set; }

    [Range(0, 9999)]
    public int LimitedDataUseState { get; set; }

    internal override bool HasIdentity => !string.IsNullOrEmpty(PixelId);

    internal override int PlatformMaxBatch => 1000;
}

public sealed class TikTokOptions : DestinationOptions
{
    public TikTokOptions()
    {
        BaseUrl = "https://business-api.tiktok.com";
        MaxBatchSize = 1000;
        MaxEventAge = TimeSpan.FromDays(7);
    }

    /// <summary>The pixel code (event_source_id); setting it turns TikTok on.</summary>
    [AsciiToken("A-Za-z0-9", 1, 64)]
    public string? PixelCode { get; set; }

    public string? TestEventCode { get; set; }

    /// <summary>Phone hashed as E.164 with '+' (the reference's working choice) or as digits only (TikTok's customer-file vector).</summary>
    public PhoneHashFormat PhoneFormat { get; set; } = PhoneHashFormat.E164;

    internal override bool HasIdentity => !string.IsNullOrEmpty(PixelCode);

    internal override int PlatformMaxBatch => 1000;
}

public enum PhoneHashFormat
{
    E164 = 0,
    Digits = 1,
}

public sealed class LinkedInOptions : DestinationOptions
{
    public LinkedInOptions()
    {
        BaseUrl = "https://api.linkedin.com";
        MaxBatchSize = 5000;
        MaxEventAge = TimeSpan.FromDays(90);
    }

    /// <summary>LinkedIn-Version header (YYYYMM); versions sunset, keep it current.</summary>
    [AsciiToken("0-9", 4, 4, Prefix = "20")]
    public string Version { get; set; } = "202604";

    /// <summary>GA4 event name to conversion rule URN (urn:lla:llaPartnerConversion:123); LinkedIn has no event names. Setting one turns LinkedIn on.</summary>
    public Dictionary<string, string> Conversions { get; set; } = new(StringComparer.Ordinal);

    internal override bool HasIdentity => Conversions.Values.Any(static v => !string.IsNullOrWhiteSpace(v));

    internal override int PlatformMaxBatch => 5000;
}

public sealed class GoogleAdsOptions : DestinationOptions
{
    public GoogleAdsOptions()
    {
        // Data Manager API events:ingest (conversion-apis.md §4): ≤ 2,000 events, OAuth2 bearer; 24 h for enhancement.
        BaseUrl = "https://datamanager.googleapis.com";
        MaxBatchSize = 2000;
        MaxEventAge = TimeSpan.FromHours(24);
    }

    /// <summary>The Google Ads customer id the conversions belong to (operatingAccount); setting it and a conversion turns Google Ads on.</summary>
    [AsciiToken("0-9", 1, 20)]
    public string? CustomerId { get; set; }

    /// <summary>The manager account that logs in, when different (loginAccount).</summary>
    [AsciiToken("0-9", 1, 20)]
    public string? LoginCustomerId { get; set; }

    /// <summary>GA4 event name to conversion action id (productDestinationId).</summary>
    public Dictionary<string, string> ConversionActions { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Ask the API to validate only (nothing is recorded): the Data Manager equivalent of a test code.</summary>
    public bool ValidateOnly { get; set; }

    /// <summary>
    /// OAuth refresh-token flow (Data Manager access tokens expire in about an hour): with a refresh token, client id
    /// and client secret the gateway obtains access tokens itself, ahead of expiry and once more on a 401, and
    /// <see cref="DestinationOptions.AccessToken"/> is not needed. Each also has a <c>…File</c> form (a mounted secret).
    /// </summary>
    public string? RefreshToken { get; set; }

    public string? RefreshTokenFile { get; set; }

    public string? ClientId { get; set; }

    public string? ClientIdFile { get; set; }

    public string? ClientSecret { get; set; }

    public string? ClientSecretFile { get; set; }

    /// <summary>Google's OAuth 2.0 token endpoint (tests point it at a loopback fake).</summary>
    public string TokenEndpoint { get; set; } = "https://oauth2.googleapis.com/token";

    /// <summary>An access token is refreshed this long before its expires_in runs out (at most half its lifetime).</summary>
    public TimeSpan TokenRefreshMargin { get; set; } = TimeSpan.FromMinutes(5);

    internal bool UsesRefreshToken => !string.IsNullOrWhiteSpace(RefreshToken) || !string.IsNullOrEmpty(RefreshTokenFile);

    internal override bool HasIdentity => !string.IsNullOrEmpty(CustomerId) && ConversionActions.Values.Any(static v => !string.IsNullOrWhiteSpace(v));

    internal override int PlatformMaxBatch => 2000;
}

/// <summary>
/// GA4 Measurement Protocol gap-fill (issue #13): backend events GA never got from the browser (a blocked tag) are sent
/// to <c>{BaseUrl}/mp/collect?measurement_id=…&amp;api_secret=…</c>, after <see cref="GapFillWindow"/>, only when no browser
/// hit with the same transaction or event id passed through the gateway. <see cref="DestinationOptions.Events"/> maps the
/// GA4 names sent (default purchase, refund, generate_lead, sign_up; an empty value stops one).
/// </summary>
public sealed class GoogleAnalyticsOptions : DestinationOptions
{
    public GoogleAnalyticsOptions()
    {
        // Google's reference: https://www.google-analytics.com/mp/collect, or https://region1.google-analytics.com for
        // collection in the EU; at most 25 events a request; timestamp_micros up to 72 hours back.
        BaseUrl = "https://www.google-analytics.com";
        MaxBatchSize = 25;
        MaxEventAge = TimeSpan.FromHours(72);
    }

    /// <summary>The web stream's measurement id (G-…); setting it and an API secret turns the gap-fill on.</summary>
    [AsciiToken("A-Z0-9", 4, 20, Prefix = "G-")]
    public string? MeasurementId { get; set; }

    /// <summary>The stream's Measurement Protocol API secret; prefer the environment (Capi__GoogleAnalytics__ApiSecret) or <see cref="ApiSecretFile"/>. Never logged.</summary>
    public string? ApiSecret { get; set; }

    /// <summary>A file holding the API secret (a mounted secret); read once at start.</summary>
    public string? ApiSecretFile { get; set; }

    /// <summary>How long a backend event waits for the browser's own hit of the same transaction before GA gets the server's copy.</summary>
    public TimeSpan GapFillWindow { get; set; } = TimeSpan.FromMinutes(2);

    internal override bool HasIdentity => !string.IsNullOrEmpty(MeasurementId);

    internal override int PlatformMaxBatch => 25;
}

/// <summary>The server-to-server endpoint (POST /capi/v1/events on the public listener).</summary>
public sealed class IngestOptions
{
    /// <summary>Accepted API keys (Authorization: Bearer … or X-Api-Key); at least 24 characters each. None: the endpoint answers 404.</summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>A file with one API key per line (a mounted secret), added to <see cref="ApiKeys"/>.</summary>
    public string? ApiKeyFile { get; set; }

    /// <summary>Largest request body; larger is 413.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxRequestBytes { get; set; } = 1024 * 1024;

    /// <summary>Most events in one request; more is 413.</summary>
    [Range(1, 10_000)]
    public int MaxEventsPerRequest { get; set; } = 1000;

    /// <summary>
    /// How far ahead of the gateway's clock an event_time may be (clock skew between the site's backend and us);
    /// later is a 400. The oldest accepted is the longest MaxEventAge of the configured destinations.
    /// </summary>
    public TimeSpan MaxFutureSkew { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>The durable outbox and dedup ledger.</summary>
public sealed class StoreOptions
{
    /// <summary>
    /// Journal (default): an embedded journal on this instance's disk, for one instance. Redis: the outbox and ledger in
    /// a Redis shared by several instances (<see cref="Redis"/>), so losing an instance loses nothing.
    /// </summary>
    public CapiStoreKind Kind { get; set; } = CapiStoreKind.Journal;

    /// <summary>Settings of the Redis store; read only when <see cref="Kind"/> is Redis.</summary>
    [ValidateObjectMembers]
    public RedisStoreOptions Redis { get; set; } = new();

    /// <summary>Directory of the journal; created if missing. Relative paths are under the working directory.</summary>
    [Required]
    public string Path { get; set; } = "capi-store";

    /// <summary>
    /// Disk bound. When the journal reaches it, new events are refused (server-to-server: 503 with Retry-After; hits:
    /// counted and skipped) until delivery and compaction free space: an accepted event is never evicted.
    /// </summary>
    [Range(1L * 1024 * 1024, 1024L * 1024 * 1024 * 1024)]
    public long MaxBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>
    /// Memory bound of the journal's backlog: each live event (waiting, in flight or dead-lettered) keeps about 256 bytes
    /// in memory (its payload stays on disk). Past it new events are refused as at <see cref="MaxBytes"/>; accepted
    /// ones are never evicted. The dedup ledger is not part of it: <see cref="LedgerMaxBytes"/> bounds it.
    /// </summary>
    [Range(1L * 1024 * 1024, 64L * 1024 * 1024 * 1024)]
    public long MaxMemoryBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>
    /// Memory budget of the journal's dedup ledger (a fingerprint table of 20-byte slots). The table never grows past
    /// it, not even while growing; at the budget the keys closest to expiry are evicted, which shortens the dedup window
    /// below DedupTtl (counted, gauged and logged). 64 MiB holds 1.4 to 1.7 million keys: 48 h at 8 keys a second.
    /// </summary>
    [Range(1L * 1024 * 1024, 16L * 1024 * 1024 * 1024)]
    public long LedgerMaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Size at which the active journal segment is sealed and a new one started.</summary>
    [Range(64L * 1024, 1024L * 1024 * 1024)]
    public long SegmentBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>How long dead letters are kept for listing and replay before they are discarded.</summary>
    public TimeSpan DeadLetterRetention { get; set; } = TimeSpan.FromDays(7);
}

public enum CapiStoreKind
{
    Journal = 0,
    Redis = 1,
}

/// <summary>The Redis store (Capi:Store:Kind=Redis): streams with consumer groups for the outbox, SET NX keys for the ledger.</summary>
public sealed class RedisStoreOptions
{
    /// <summary>StackExchange.Redis configuration string (host:port[,password=…][,ssl=true]); prefer the environment for a password.</summary>
    [Required]
    public string Configuration { get; set; } = "127.0.0.1:6379";

    /// <summary>
    /// Prefix of every key. The braces are a hash tag: all keys land in one slot, so the multi-key scripts also run on
    /// a Redis Cluster (as one shard's worth of work). Instances sharing a queue share the prefix; sites do not.
    /// </summary>
    [Required]
    [AsciiToken("A-Za-z0-9:{}_.-", 1, 64)]
    public string KeyPrefix { get; set; } = "{taggateway-capi}:";

    /// <summary>This instance's consumer name in the groups; default host name, process id and a random suffix (unique per start).</summary>
    [AsciiToken("A-Za-z0-9_.:-", 1, 128)]
    public string? ConsumerName { get; set; }

    /// <summary>Entries another consumer has held this long unacknowledged are claimed (a dead instance's in-flight events).</summary>
    public TimeSpan ClaimIdle { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an instance counts as alive after its last heartbeat (refreshed every third of it).</summary>
    public TimeSpan ConsumerTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Timeout of one Redis operation; past it the operation counts as failed (events go to the spill).</summary>
    public TimeSpan OperationTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Replicas that must have an accepted event before it is acknowledged (WAIT); 0 relies on the primary's own
    /// persistence (appendfsync always). Set 1 on a replicated Redis whose fail-over could otherwise lose the last writes.
    /// </summary>
    [Range(0, 10)]
    public int WaitReplicas { get; set; }

    /// <summary>Local directory of the spill: events accepted while Redis is unreachable, fsync'd, drained when it returns.</summary>
    [Required]
    public string SpillPath { get; set; } = "capi-spill";

    /// <summary>Spill bound; when full, server-to-server calls get 503 and hit events are counted and skipped.</summary>
    [Range(64L * 1024, 64L * 1024 * 1024 * 1024)]
    public long SpillMaxBytes { get; set; } = 64L * 1024 * 1024;
}

/// <summary>Retry policy shared by the destinations (each has its own pipeline and circuit breaker).</summary>
public sealed class DeliveryOptions
{
    /// <summary>Attempts within one delivery (after the first), on the platform's retryable errors only.</summary>
    [Range(0, 10)]
    public int RetryAttempts { get; set; } = 2;

    /// <summary>First backoff of the in-request retries (exponential, jittered; a Retry-After wins).</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>After a delivery failed all its attempts, the events stay stored; the destination waits this long, doubling up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan MinBackoff { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Circuit breaker: break after this failure ratio …</summary>
    [Range(0.01, 1.0)]
    public double BreakerFailureRatio { get; set; } = 0.5;

    /// <summary>… among at least this many attempts in <see cref="BreakerSamplingDuration"/> …</summary>
    [Range(2, 10_000)]
    public int BreakerMinimumThroughput { get; set; } = 6;

    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>… and stay open this long.</summary>
    public TimeSpan BreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Idle poll for newly ready events (new events also wake the sender at once).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
}
