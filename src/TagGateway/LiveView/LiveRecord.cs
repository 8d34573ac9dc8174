using System.Diagnostics;
using System.Runtime.CompilerServices;
using TagGateway.Consent.Policy;

namespace TagGateway.LiveView;

/// <summary>What a live-view line is about.</summary>
internal enum LiveRoute : byte
{
    Script,
    GoogleAnalytics,
    GoogleAds,
    OtherHit,
    Refused,

    /// <summary>A server-to-server batch on <c>POST /capi/v1/events</c>.</summary>
    CapiIngest,
}

/// <summary>Why a Set-Cookie header was sent, as the cookie issuer said (or <see cref="Written"/> for the upstream's own).</summary>
internal enum LiveCookieAction : byte
{
    Written,
    Minted,
    Refreshed,
    Copied,
    Restored,
    Expired,
}

/// <summary>Facts about the visitor's connection, as the resolver saw them (never the address itself).</summary>
[Flags]
internal enum LiveClientFlags : byte
{
    None = 0,
    FromTrustedEdge = 1,
    Https = 2,
    SiteHostKnown = 4,
    Geolocated = 8,
    GlobalPrivacyControl = 16,
}

/// <summary>A cookie a response set: its name and lifetime, never its value.</summary>
internal struct LiveCookie
{
    public Chars24 Name;
    public byte NameLength;
    public bool HttpOnly;
    public bool Secure;
    public LiveCookieAction Action;

    /// <summary>Max-Age in seconds; 0 expires the cookie, -1 when the header had none (a session cookie).</summary>
    public int MaxAge;
}

/// <summary>One destination's decision, reduced to what the page shows.</summary>
internal struct LiveConsent
{
    public bool MaySend;
    public bool MayUseIdentifiers;
    public bool MayAttachUserData;
}

/// <summary>
/// One request through the public listener, as a fixed-size value in a preallocated ring: text is copied into small
/// inline buffers or kept as a reference to a string that already exists (a constant, the resolver's region), so
/// recording builds no string. Values of the query other than IDs and event names are never copied.
/// </summary>
internal struct LiveRecord
{
    public long Sequence;

    /// <summary>A <see cref="Stopwatch"/> timestamp: the page turns it into a time (<see cref="LiveRecorder.UnixMilliseconds"/>).</summary>
    public long Timestamp;
    public LiveRoute Route;
    public LiveClientFlags Client;
    public short Status;
    public int LatencyMicroseconds;

    /// <summary>A script's cache outcome, or a refusal's reason: always a constant string.</summary>
    public string? Detail;

    /// <summary>The visitor's region as the client resolver produced it (already a string per request).</summary>
    public string? Region;

    public Chars24 Tag;
    public byte TagLength;
    public Chars40 ClientId;
    public byte ClientIdLength;
    public Chars40 EventName;
    public byte EventNameLength;
    public short EventCount;

    public RegionProfile RegionProfile;
    public ConsentSource AnalyticsStorageSource;
    public bool AnalyticsStorageGranted;
    public ConsentSource AdStorageSource;
    public bool AdStorageGranted;
    public LiveConsent Analytics;
    public LiveConsent Ads;

    public LiveCookies Cookies;
    public byte CookieCount;

    /// <summary>A CAPI ingest's first events (name, fate, destinations); <see cref="EventCount"/> counts them all.</summary>
    public LiveCapiEvents CapiEvents;
    public byte CapiEventCount;
    public short CapiAccepted;
    public short CapiMerged;
    public short CapiDuplicates;
    public short CapiNotSent;
}

/// <summary>One server event of a CAPI ingest: its name and fate, never its user data.</summary>
internal struct LiveCapiEvent
{
    public Chars24 Name;
    public byte NameLength;
    public Capi.Ingest.CapiIngestFate Fate;
    public Capi.Ingest.CapiDestinationSet Destinations;
}

[InlineArray(24)]
internal struct Chars24
{
    private char _first;
}

[InlineArray(40)]
internal struct Chars40
{
    private char _first;
}

[InlineArray(LiveCookies.Capacity)]
internal struct LiveCookies
{
    // A returning visitor's hit may carry _ga, a stream cookie, their HttpOnly copies, FPID and the marker.
    public const int Capacity = 8;

    private LiveCookie _first;
}

[InlineArray(Capacity)]
internal struct LiveCapiEvents
{
    public const int Capacity = 4;

    private LiveCapiEvent _first;
}
