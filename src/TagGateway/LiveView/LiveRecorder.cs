using System.Diagnostics;
using TagGateway.Capi.Ingest;
using TagGateway.ClientIdentity;
using TagGateway.Configuration;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;
using TagGateway.Consent.Wire;
using TagGateway.Cookies.Issuing;
using TagGateway.Hits;

namespace TagGateway.LiveView;

/// <summary>
/// The last requests through the public listener, for the live view: a preallocated ring of <see cref="LiveRecord"/>
/// values written in place. A hit costs one slot copy and no allocation; text is only built when the page asks
/// (<see cref="LiveViewModel"/>). Writers never wait: a reader checks each slot's sequence before and after its copy
/// and skips one that was being overwritten.
/// </summary>
internal sealed class LiveRecorder
{
    /// <summary>The response header <see cref="Scripts.ScriptResponder"/> sets to a constant naming the cache outcome.</summary>
    private const string CacheHeader = "X-TagGateway-Cache";

    private readonly LiveRecord[] _ring;
    private readonly bool _enabled;

    // A record keeps a Stopwatch timestamp (the one its latency needs anyway); the page turns it into a time from this
    // pair, so a hit pays no wall-clock read.
    private readonly long _originUnixMilliseconds;
    private readonly long _originTimestamp;

    // Alone on its cache line: every request increments it, and the ring's array header must not share its line.
    private PaddedCounter _next;

    public LiveRecorder(GatewayOptions options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(time);
        _enabled = options.Management.UiEnabled;
        _ring = new LiveRecord[_enabled ? options.Management.LiveViewCapacity : 1];
        _originTimestamp = Stopwatch.GetTimestamp();
        _originUnixMilliseconds = time.GetUtcNow().ToUnixTimeMilliseconds();
    }

    public int Capacity => _ring.Length;

    /// <summary>Whether the UI is on (Gateway:Management:UiEnabled): when off, nothing is recorded.</summary>
    public bool IsEnabled => _enabled;

    /// <summary>The sequence of the newest record (0 before the first).</summary>
    public long Newest => Volatile.Read(ref _next.Value);

    /// <summary>A hit after the forwarder answered (or failed): status, latency, consent, the cookies its response set.</summary>
    public void RecordHit(HttpContext context, HitRequest hit, long startedTimestamp)
    {
        if (!_enabled)
        {
            return;
        }

        ref var record = ref Begin(startedTimestamp, out var sequence);
        record.Route = hit.Kind switch
        {
            HitKind.GoogleAnalytics => LiveRoute.GoogleAnalytics,
            HitKind.GoogleAds => LiveRoute.GoogleAds,
            _ => LiveRoute.OtherHit,
        };
        record.Status = (short)context.Response.StatusCode;
        record.Detail = null;
        SetClient(ref record, hit.Client, hit.GlobalPrivacyControl);
        record.TagLength = Copy(hit.DestinationId, record.Tag);
        record.ClientIdLength = Copy(hit.ClientId, record.ClientId);
        SetEvents(ref record, hit);
        SetConsent(ref record, hit.Consent);
        SetCookies(ref record, context.Response.Headers.SetCookie, hit.IssuedCookies, hit.IssuedCookieCount);
        record.CapiEventCount = 0;
        Publish(ref record, sequence);
    }

    /// <summary>A script load once its response is written: the cache outcome, the cookies a script response set.</summary>
    public void RecordScript(HttpContext context, ReadOnlySpan<char> tagId, in ClientInfo client, in ConsentDecision consent, long startedTimestamp)
    {
        if (!_enabled)
        {
            return;
        }

        ref var record = ref Begin(startedTimestamp, out var sequence);
        record.Route = LiveRoute.Script;
        record.Status = (short)context.Response.StatusCode;
        record.Detail = context.Response.Headers[CacheHeader] is { Count: 1 } cache ? cache[0] : null;
        SetClient(ref record, client, consent.Signals.GlobalPrivacyControl);
        record.TagLength = Copy(tagId, record.Tag);
        record.ClientIdLength = 0;
        record.EventNameLength = 0;
        record.EventCount = 0;
        SetConsent(ref record, consent);

        // A script load writes no identifier of the gateway's own: any cookie here is the upstream's.
        SetCookies(ref record, context.Response.Headers.SetCookie, default, 0);
        record.CapiEventCount = 0;
        Publish(ref record, sequence);
    }

    /// <summary>A request refused before anything went upstream; <paramref name="reason"/> is a constant.</summary>
    public void RecordRefused(int status, string reason)
    {
        if (!_enabled)
        {
            return;
        }

        ref var record = ref Begin(0, out var sequence);
        record.Route = LiveRoute.Refused;
        record.Status = (short)status;
        record.Detail = reason;
        record.Region = null;
        record.Client = LiveClientFlags.None;
        record.TagLength = 0;
        record.ClientIdLength = 0;
        record.EventNameLength = 0;
        record.EventCount = 0;
        SetConsent(ref record, default);
        record.CookieCount = 0;
        record.CapiEventCount = 0;
        Publish(ref record, sequence);
    }

    /// <summary>
    /// A CAPI ingest request once answered: its status, and for a stored batch each event's name and fate (from
    /// <see cref="CapiIngestRecorder"/>); never the events' user data. Off the hit path: one request per backend batch.
    /// </summary>
    public void RecordCapiIngest(HttpContext context, ReadOnlySpan<CapiIngestedEvent> events, long startedTimestamp)
    {
        if (!_enabled)
        {
            return;
        }

        ref var record = ref Begin(startedTimestamp, out var sequence);
        record.Route = LiveRoute.CapiIngest;
        record.Status = (short)context.Response.StatusCode;
        record.Detail = null;
        record.Region = null;
        record.Client = LiveClientFlags.None;
        record.TagLength = 0;
        record.ClientIdLength = 0;
        record.EventNameLength = events.IsEmpty ? (byte)0 : Copy(events[0].EventName, record.EventName);
        record.EventCount = (short)Math.Min(short.MaxValue, events.Length);
        SetConsent(ref record, default);
        record.CookieCount = 0;
        short accepted = 0, merged = 0, duplicates = 0, notSent = 0;
        byte listed = 0;
        foreach (ref readonly var ingested in events)
        {
            accepted += (short)(ingested.Fate == CapiIngestFate.Accepted ? 1 : 0);
            merged += (short)(ingested.Fate == CapiIngestFate.Merged ? 1 : 0);
            duplicates += (short)(ingested.Fate == CapiIngestFate.Duplicate ? 1 : 0);
            notSent += (short)(ingested.Fate == CapiIngestFate.NotSent ? 1 : 0);
            if (listed < LiveCapiEvents.Capacity)
            {
                ref var slot = ref record.CapiEvents[listed++];
                slot.NameLength = Copy(ingested.EventName, slot.Name);
                slot.Fate = ingested.Fate;
                slot.Destinations = ingested.Destinations;
            }
        }

        (record.CapiAccepted, record.CapiMerged, record.CapiDuplicates, record.CapiNotSent, record.CapiEventCount) = (accepted, merged, duplicates, notSent, listed);
        Publish(ref record, sequence);
    }

    /// <summary>A record's <see cref="LiveRecord.Timestamp"/> as Unix milliseconds.</summary>
    public long UnixMilliseconds(long timestamp) =>
        _originUnixMilliseconds + (long)((timestamp - _originTimestamp) * 1000.0 / Stopwatch.Frequency);

    /// <summary>Copies the records newer than <paramref name="after"/>, newest first, at most the ring's capacity.</summary>
    public int CopyNewest(long after, Span<LiveRecord> destination)
    {
        var newest = Volatile.Read(ref _next.Value);
        var oldest = Math.Max(after + 1, newest - _ring.Length + 1);
        var count = 0;
        for (var sequence = newest; sequence >= oldest && count < destination.Length; sequence--)
        {
            ref var slot = ref _ring[(int)((ulong)(sequence - 1) % (uint)_ring.Length)];
            if (Volatile.Read(ref slot.Sequence) != sequence)
            {
                continue;
            }

            destination[count] = slot;
            Interlocked.MemoryBarrier();
            if (Volatile.Read(ref slot.Sequence) == sequence)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Claims the next slot; one timestamp read gives both the record's time and its latency.</summary>
    private ref LiveRecord Begin(long startedTimestamp, out long sequence)
    {
        sequence = Interlocked.Increment(ref _next.Value);
        ref var record = ref _ring[(int)((ulong)(sequence - 1) % (uint)_ring.Length)];

        // Marks the slot as being written, so a reader copying it meanwhile discards its copy.
        Volatile.Write(ref record.Sequence, 0);
        var now = Stopwatch.GetTimestamp();
        record.Timestamp = now;
        record.LatencyMicroseconds = startedTimestamp == 0 ? 0 : (int)Math.Min(int.MaxValue, (now - startedTimestamp) * 1_000_000 / Stopwatch.Frequency);
        return ref record;
    }

    private static void Publish(ref LiveRecord record, long sequence) => Volatile.Write(ref record.Sequence, sequence);

    private static void SetClient(ref LiveRecord record, in ClientInfo client, bool gpc)
    {
        record.Region = client.CountryRegion;
        record.Client = (client.FromTrustedEdge ? LiveClientFlags.FromTrustedEdge : 0)
            | (client.IsHttps ? LiveClientFlags.Https : 0)
            | (client.SiteHost is not null ? LiveClientFlags.SiteHostKnown : 0)
            | (client.CountryRegion is not null ? LiveClientFlags.Geolocated : 0)
            | (gpc ? LiveClientFlags.GlobalPrivacyControl : 0);
    }

    private static void SetEvents(ref LiveRecord record, HitRequest hit)
    {
        var body = hit.BodyBytes;
        if (body.IsEmpty)
        {
            record.EventNameLength = Copy(hit.EventName, record.EventName);
            record.EventCount = (short)(hit.EventName.IsEmpty ? 0 : 1);
            return;
        }

        // A batched GA4 body: one event per line; the first line's name is shown when the URL has none.
        short count = 0;
        record.EventNameLength = Copy(hit.EventName, record.EventName);
        foreach (var line in HitBody.EnumerateLines(body))
        {
            if (count++ == 0 && record.EventNameLength == 0 && QueryPairs.TryGetFirstRawValue(line, "en", out var name))
            {
                record.EventNameLength = CopyAscii(name, record.EventName);
            }
        }

        record.EventCount = count;
    }

    private static void SetConsent(ref LiveRecord record, in ConsentDecision consent)
    {
        record.RegionProfile = consent.RegionProfile;
        var analytics = consent.Consent.Get(ConsentType.AnalyticsStorage);
        var ads = consent.Consent.Get(ConsentType.AdStorage);
        (record.AnalyticsStorageGranted, record.AnalyticsStorageSource) = (analytics.IsGranted, analytics.Source);
        (record.AdStorageGranted, record.AdStorageSource) = (ads.IsGranted, ads.Source);
        record.Analytics = Reduce(consent.For(ConsentDestination.GoogleAnalytics));
        record.Ads = Reduce(consent.For(ConsentDestination.GoogleAds));
    }

    private static LiveConsent Reduce(DestinationDecision decision) => new()
    {
        MaySend = decision.MaySend,
        MayUseIdentifiers = decision.MayUseIdentifiers,
        MayAttachUserData = decision.MayAttachUserData,
    };

    /// <summary>
    /// Names, lifetimes and actions of the response's cookies; the value between '=' and ';' is never read. The
    /// gateway's own headers are the last <paramref name="issuedCount"/>, in the issuer's order.
    /// </summary>
    private static void SetCookies(ref LiveRecord record, Microsoft.Extensions.Primitives.StringValues headers, in IssuedCookieActions issued, int issuedCount)
    {
        byte count = 0;
        var firstIssued = headers.Count - issuedCount;
        for (var index = 0; index < headers.Count && count < LiveCookies.Capacity; index++)
        {
            var text = headers[index].AsSpan();
            var equals = text.IndexOf('=');
            if (equals <= 0)
            {
                continue;
            }

            ref var cookie = ref record.Cookies[count++];
            cookie.NameLength = Copy(text[..equals].Trim(), cookie.Name);
            var semicolon = text.IndexOf(';');
            ReadAttributes(ref cookie, semicolon < 0 ? [] : text[(semicolon + 1)..]);

            var action = index >= firstIssued && index - firstIssued < IssuedCookieActions.Capacity ? issued[index - firstIssued] : IssuedCookieAction.None;
            cookie.Action = action switch
            {
                IssuedCookieAction.Mint => LiveCookieAction.Minted,
                IssuedCookieAction.Refresh => LiveCookieAction.Refreshed,
                IssuedCookieAction.Copy => LiveCookieAction.Copied,
                IssuedCookieAction.Restore => LiveCookieAction.Restored,
                IssuedCookieAction.Expire => LiveCookieAction.Expired,
                _ => cookie.MaxAge == 0 ? LiveCookieAction.Expired : LiveCookieAction.Written,
            };
        }

        record.CookieCount = count;
    }

    /// <summary>
    /// HttpOnly, Secure and Max-Age from a Set-Cookie header's attributes, in one pass over them with ASCII
    /// case-insensitive compares (attribute names are ASCII; a culture-aware search per name cost three scans a cookie).
    /// </summary>
    private static void ReadAttributes(ref LiveCookie cookie, ReadOnlySpan<char> attributes)
    {
        cookie.HttpOnly = false;
        cookie.Secure = false;
        cookie.MaxAge = -1;
        foreach (var range in attributes.Split(';'))
        {
            var attribute = attributes[range].Trim();
            if (System.Text.Ascii.EqualsIgnoreCase(attribute, "HttpOnly"))
            {
                cookie.HttpOnly = true;
            }
            else if (System.Text.Ascii.EqualsIgnoreCase(attribute, "Secure"))
            {
                cookie.Secure = true;
            }
            else if (attribute.Length > MaxAgePrefix.Length && System.Text.Ascii.EqualsIgnoreCase(attribute[..MaxAgePrefix.Length], MaxAgePrefix))
            {
                cookie.MaxAge = int.TryParse(attribute[MaxAgePrefix.Length..], System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var seconds) ? Math.Max(0, seconds) : -1;
            }
        }
    }

    private const string MaxAgePrefix = "Max-Age=";

    private static byte Copy(ReadOnlySpan<char> source, Span<char> destination)
    {
        var length = Math.Min(source.Length, destination.Length);
        source[..length].CopyTo(destination);
        return (byte)length;
    }

    private static byte CopyAscii(ReadOnlySpan<byte> source, Span<char> destination)
    {
        var length = Math.Min(source.Length, destination.Length);
        for (var i = 0; i < length; i++)
        {
            destination[i] = source[i] < 0x80 ? (char)source[i] : '?';
        }

        return (byte)length;
    }

    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Explicit, Size = 128)]
    private struct PaddedCounter
    {
        [System.Runtime.InteropServices.FieldOffset(64)]
        public long Value;
    }
}
