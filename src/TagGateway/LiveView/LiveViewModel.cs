using System.Globalization;
using TagGateway.Capi.Ingest;

namespace TagGateway.LiveView;

// The wire types of /ui/api/*: built only when the page asks, from copies of the ring's records.

internal sealed record LiveEntry(
    long Seq,
    string Time,
    string Route,
    string? Tag,
    string? ClientId,
    string? Event,
    int EventCount,
    int Status,
    double LatencyMs,
    string? Detail,
    string? Region,
    string? RegionProfile,
    bool TrustedEdge,
    bool Https,
    bool Geolocated,
    bool Gpc,
    LiveConsentType? AnalyticsStorage,
    LiveConsentType? AdStorage,
    List<LiveDestination> Destinations,
    List<LiveCookieEntry> Cookies,
    LiveCapiIngest? Capi);

/// <summary>What a CAPI ingest request created: counts by fate, and the first events with their destinations.</summary>
internal sealed record LiveCapiIngest(int Accepted, int Merged, int Duplicates, int NotSent, List<LiveCapiEventEntry> Events);

/// <summary>One server event: its name, fate (accepted, merged, duplicate, not_sent) and the destinations that take it.</summary>
internal sealed record LiveCapiEventEntry(string Name, string Fate, List<string> Destinations);

/// <summary>A consent type's state and where it came from (the signal, the region's default, GPC).</summary>
internal sealed record LiveConsentType(bool Granted, string Source);

internal sealed record LiveDestination(string Name, bool Send, bool Identifiers, bool UserData);

/// <summary>
/// A cookie the response set; <c>Action</c> is minted, refreshed, copied (the HttpOnly copy), restored, expired or
/// written (the upstream's own, a click ID, the refresh marker). Never its value.
/// </summary>
internal sealed record LiveCookieEntry(string Name, int? MaxAgeSeconds, bool HttpOnly, bool Secure, string Action);

internal sealed record LivePage(long Newest, int Capacity, List<LiveEntry> Entries);

/// <summary>One setup check line: green, amber, red or grey (not enough traffic to tell), and the fix.</summary>
internal sealed record SetupLine(string Id, string Title, string Level, string Detail, string? Fix);

internal sealed record SetupReport(string GeneratedAt, int RequestsConsidered, List<SetupLine> Lines);


internal static class LiveViewModel
{
    public static LiveEntry ToEntry(in LiveRecord record, LiveRecorder recorder)
    {
        var isHit = record.Route is LiveRoute.GoogleAnalytics or LiveRoute.GoogleAds or LiveRoute.OtherHit or LiveRoute.Script;
        var cookies = new List<LiveCookieEntry>(record.CookieCount);
        for (var i = 0; i < record.CookieCount; i++)
        {
            var cookie = record.Cookies[i];
            var name = new string(((ReadOnlySpan<char>)cookie.Name)[..cookie.NameLength]);
            var action = CookieActionName(cookie.Action);
            cookies.Add(new LiveCookieEntry(name, cookie.MaxAge < 0 ? null : cookie.MaxAge, cookie.HttpOnly, cookie.Secure, action));
        }

        return new LiveEntry(
            record.Sequence,
            DateTimeOffset.FromUnixTimeMilliseconds(recorder.UnixMilliseconds(record.Timestamp)).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
            RouteName(record.Route),
            Text(record.Tag, record.TagLength),
            Text(record.ClientId, record.ClientIdLength),
            Text(record.EventName, record.EventNameLength),
            record.EventCount,
            record.Status,
            record.LatencyMicroseconds / 1000.0,
            record.Detail,
            record.Region,
            isHit ? record.RegionProfile.ToString() : null,
            (record.Client & LiveClientFlags.FromTrustedEdge) != 0,
            (record.Client & LiveClientFlags.Https) != 0,
            (record.Client & LiveClientFlags.Geolocated) != 0,
            (record.Client & LiveClientFlags.GlobalPrivacyControl) != 0,
            isHit ? new LiveConsentType(record.AnalyticsStorageGranted, SourceName(record.AnalyticsStorageSource, record.AnalyticsStorageGranted, record.Client)) : null,
            isHit ? new LiveConsentType(record.AdStorageGranted, SourceName(record.AdStorageSource, record.AdStorageGranted, record.Client)) : null,
            isHit
                ?
                [
                    new LiveDestination("Google Analytics", record.Analytics.MaySend, record.Analytics.MayUseIdentifiers, record.Analytics.MayAttachUserData),
                    new LiveDestination("Google Ads", record.Ads.MaySend, record.Ads.MayUseIdentifiers, record.Ads.MayAttachUserData),
                ]
                : [],
            cookies,
            record.Route == LiveRoute.CapiIngest ? IngestOf(record) : null);
    }

    private static LiveCapiIngest IngestOf(in LiveRecord record)
    {
        var events = new List<LiveCapiEventEntry>(record.CapiEventCount);
        for (var i = 0; i < record.CapiEventCount; i++)
        {
            var capiEvent = record.CapiEvents[i];
            var destinations = new List<string>();
            for (var set = (int)capiEvent.Destinations; set != 0; set &= set - 1)
            {
                destinations.Add(CapiStatus.DestinationName((CapiDestinationSet)(set & -set)));
            }

            events.Add(new LiveCapiEventEntry(Text(capiEvent.Name, capiEvent.NameLength) ?? "", FateName(capiEvent.Fate), destinations));
        }

        return new LiveCapiIngest(record.CapiAccepted, record.CapiMerged, record.CapiDuplicates, record.CapiNotSent, events);
    }

    private static string FateName(CapiIngestFate fate) => fate switch
    {
        CapiIngestFate.Accepted => "accepted",
        CapiIngestFate.Merged => "merged",
        CapiIngestFate.Duplicate => "duplicate",
        _ => "not_sent",
    };

    private static string CookieActionName(LiveCookieAction action) => action switch
    {
        LiveCookieAction.Minted => "minted",
        LiveCookieAction.Refreshed => "refreshed",
        LiveCookieAction.Copied => "copied",
        LiveCookieAction.Restored => "restored",
        LiveCookieAction.Expired => "expired",
        _ => "written",
    };

    public static string RouteName(LiveRoute route) => route switch
    {
        LiveRoute.Script => "script",
        LiveRoute.GoogleAnalytics => "ga4",
        LiveRoute.GoogleAds => "ads",
        LiveRoute.OtherHit => "other",
        LiveRoute.CapiIngest => "capi",
        _ => "refused",
    };

    private static string? Text(ReadOnlySpan<char> buffer, byte length) => length == 0 ? null : new string(buffer[..length]);

    private static string SourceName(Consent.Policy.ConsentSource source, bool granted, LiveClientFlags client) => source switch
    {
        Consent.Policy.ConsentSource.RegionDefault => "region default",
        Consent.Policy.ConsentSource.Gcs => "signal (gcs)",
        Consent.Policy.ConsentSource.GcdDefault => "signal (gcd default)",
        Consent.Policy.ConsentSource.GcdUpdate => "signal (gcd update)",
        Consent.Policy.ConsentSource.GlobalPrivacyControl => "GPC",
        _ => !granted && (client & LiveClientFlags.GlobalPrivacyControl) != 0 ? "GPC" : source.ToString(),
    };
}
