using TagGateway.Capi;
using TagGateway.Consent.Logging;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;
using TagGateway.Consent.Wire;

namespace TagGateway.Hits;

/// <summary>
/// What happens to a hit once Google has it: each event's consent decision is made and recorded for the audit log
/// (a body line overrides the URL for its event), and a GA4 hit, whatever path it came by, is queued for the
/// conversion APIs when the CAPI module is on. Nothing here delays the hit: it runs after the upstream answered.
/// </summary>
internal sealed class ForwardedHitObserver
{
    private const int MaxEventNameChars = 64;

    private readonly IConsentPolicy _policy;
    private readonly IConsentRecorder _recorder;
    private readonly CapiHitSink _capi;
    private readonly TimeProvider _time;

    public ForwardedHitObserver(IConsentPolicy policy, IConsentRecorder recorder, CapiHitSink capi, TimeProvider time)
    {
        _policy = policy;
        _recorder = recorder;
        _capi = capi;
        _time = time;
    }

    public void OnForwarded(HttpContext context, HitRequest hit)
    {
        if (hit.Kind == HitKind.Other)
        {
            return;
        }

        var region = hit.Client.CountryRegion.AsSpan();
        var body = hit.BodyBytes;
        if (body.IsEmpty || hit.Kind == HitKind.GoogleAds)
        {
            _recorder.Record(hit.Consent, new ConsentContext(hit.DestinationId, hit.ClientId, region, hit.EventName));
        }
        else
        {
            Span<char> lineEvent = stackalloc char[MaxEventNameChars];
            foreach (var line in HitBody.EnumerateLines(body))
            {
                var decision = _policy.Decide(hit.UrlSignals.WithOverrides(line), region);
                var eventName = EventNameOf(line, lineEvent);
                _recorder.Record(decision, new ConsentContext(hit.DestinationId, hit.ClientId, region, eventName.IsEmpty ? hit.EventName : eventName));
            }
        }

        if (hit.Kind == HitKind.GoogleAnalytics && _capi.IsEnabled)
        {
            var request = context.Request;
            _capi.Submit(new MeasurementHit(
                hit.Query,
                body.ToArray(),
                hit.Client.IpText,
                request.Headers.UserAgent.ToString(),
                hit.Client.CountryRegion,
                request.Headers.Cookie.ToString(),
                hit.GlobalPrivacyControl,
                _time.GetUtcNow()));
        }
    }

    /// <summary>The line's own <c>en</c>, as ASCII chars in <paramref name="buffer"/>; empty when it has none.</summary>
    private static ReadOnlySpan<char> EventNameOf(ReadOnlySpan<byte> line, Span<char> buffer)
    {
        if (!QueryPairs.TryGetFirstRawValue(line, "en", out var value))
        {
            return [];
        }

        var length = Math.Min(value.Length, buffer.Length);
        for (var i = 0; i < length; i++)
        {
            buffer[i] = value[i] < 0x80 ? (char)value[i] : '?';
        }

        return buffer[..length];
    }
}
