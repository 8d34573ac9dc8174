using TagGateway.Capi;
using TagGateway.ClientIdentity;
using TagGateway.Consent.Logging;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;
using TagGateway.Routing;

namespace TagGateway.Forwarding;

/// <summary>
/// What happens to a GA4 collect hit once Google has it: each event's consent decision is made and recorded for
/// the audit log (a body line overrides the URL for its event), and, when the CAPI module is on, the hit is
/// queued for the conversion APIs. Nothing here delays the hit: it runs after the upstream answered.
/// </summary>
internal sealed class CollectHitObserver : IForwardedHitObserver
{
    private readonly IConsentPolicy _policy;
    private readonly IConsentRecorder _recorder;
    private readonly CapiHitSink _capi;
    private readonly TimeProvider _time;

    public CollectHitObserver(IConsentPolicy policy, IConsentRecorder recorder, CapiHitSink capi, TimeProvider time)
    {
        _policy = policy;
        _recorder = recorder;
        _capi = capi;
        _time = time;
    }

    public static bool IsCollect(ReadOnlySpan<char> rest) => rest is "/g/collect";

    public void OnForwarded(HttpContext context, ClientInfo client, ReadOnlySpan<byte> body)
    {
        var request = context.Request;
        var query = request.QueryString.HasValue ? request.QueryString.Value.AsSpan(1) : [];
        var gpc = request.Headers["Sec-GPC"] is { Count: 1 } gpcValues && ConsentSignals.IsGlobalPrivacyControl(gpcValues[0]);
        var region = client.CountryRegion.AsSpan();
        QueryParameters.TryGetValue(query, "tid", out var tagId);
        QueryParameters.TryGetValue(query, "cid", out var clientId);
        QueryParameters.TryGetValue(query, "en", out var urlEvent);
        var urlSignals = ConsentSignals.FromQuery(query, gpc);

        if (body.IsEmpty)
        {
            var decision = _policy.Decide(urlSignals, region);
            _recorder.Record(decision, new ConsentContext(tagId, clientId, region, urlEvent));
        }
        else
        {
            foreach (var line in HitBody.EnumerateLines(body))
            {
                var decision = _policy.Decide(urlSignals.WithOverrides(line), region);
                _recorder.Record(decision, new ConsentContext(tagId, clientId, region, urlEvent));
            }
        }

        if (_capi.IsEnabled)
        {
            _capi.Submit(new MeasurementHit(
                query.ToString(),
                body.ToArray(),
                client.IpText,
                request.Headers.UserAgent.ToString(),
                client.CountryRegion,
                request.Headers.Cookie.ToString(),
                gpc,
                _time.GetUtcNow()));
        }
    }
}
