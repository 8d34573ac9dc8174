using System.Globalization;

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
    List<LiveCookieEntry> Cookies);

/// <summary>A consent type's state and where it came from (the signal, the region's default, GPC).</summary>
internal sealed record LiveConsentType(bool Granted, string Source);

internal sealed record LiveDestination(string Name, bool Send, bool Identifiers, bool UserData);

/// <summary>A cookie the response set; <c>Action</c> is written, session or expired. Never its value.</summary>
internal sealed record LiveCookieEntry(string Name, int? MaxAgeSeconds, bool HttpOnly, bool Secure, string Action);

internal sealed record LivePage(long Newest, int Capacity, List<LiveEntry> Entries);

/// <summary>One setup check line: green, amber, red or grey (not enough traffic to tell), and the fix.</summary>
internal sealed record SetupLine(string Id, string Title, string Level, string Detail, string? Fix);

internal sealed record SetupReport(string GeneratedAt, int RequestsConsidered, List<SetupLine> Lines);

internal sealed record ReportSample(string Metric, string Labels, double Value);

internal sealed record SignalReport(string GeneratedAt, List<ReportSample> Samples);

internal static class LiveViewModel
{
    public static LiveEntry ToEntry(in LiveRecord record)
    {
        var isHit = record.Route is LiveRoute.GoogleAnalytics or LiveRoute.GoogleAds or LiveRoute.OtherHit or LiveRoute.Script;
        var cookies = new List<LiveCookieEntry>(record.CookieCount);
        for (var i = 0; i < record.CookieCount; i++)
        {
            var cookie = record.Cookies[i];
            var name = new string(((ReadOnlySpan<char>)cookie.Name)[..cookie.NameLength]);
            var action = cookie.MaxAge == 0 ? "expired" : cookie.MaxAge < 0 ? "session" : "written";
            cookies.Add(new LiveCookieEntry(name, cookie.MaxAge < 0 ? null : cookie.MaxAge, cookie.HttpOnly, cookie.Secure, action));
        }

        return new LiveEntry(
            record.Sequence,
            DateTimeOffset.FromUnixTimeMilliseconds(record.UnixMilliseconds).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture),
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
            cookies);
    }

    public static string RouteName(LiveRoute route) => route switch
    {
        LiveRoute.Script => "script",
        LiveRoute.GoogleAnalytics => "ga4",
        LiveRoute.GoogleAds => "ads",
        LiveRoute.OtherHit => "other",
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
