using Microsoft.Extensions.Logging;
using TagGateway.Capi.GapFill;
using TagGateway.Capi.Mapping;
using TagGateway.Capi.Model;
using TagGateway.Capi.Observability;
using TagGateway.Capi.Storage;

namespace TagGateway.Capi.Ingest;

/// <summary>
/// Drains the host's hit queue: decodes each forwarded hit into events, builds them and stores them (not waiting for
/// the fsync: nobody was promised anything, the hit itself already went to Google). Hits are taken in groups so one
/// store call covers many.
/// </summary>
internal sealed partial class HitPipeline
{
    private const int MaxHitsPerGroup = 256;

    private readonly CapiHitSink _sink;
    private readonly EventFactory _factory;
    private readonly ICapiStore _store;
    private readonly CapiMetrics _metrics;
    private readonly ILogger<HitPipeline> _logger;
    private readonly TimeProvider _time;
    private readonly GapFillGate? _gapFill;

    public HitPipeline(CapiHitSink sink, EventFactory factory, ICapiStore store, CapiMetrics metrics, TimeProvider time, ILogger<HitPipeline> logger, GapFillGate? gapFill = null)
    {
        _gapFill = gapFill is { IsEnabled: true } ? gapFill : null;
        _time = time;
        _sink = sink;
        _factory = factory;
        _store = store;
        _metrics = metrics;
        _logger = logger;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var decoded = new List<DecodedEvent>();
        var events = new List<CapiEvent>();
        var browserKeys = new List<UInt128>();
        var serverKeys = new List<UInt128>();
        var keyOwners = new List<int>();
        try
        {
            while (await _sink.Reader.WaitToReadAsync(cancellationToken))
            {
                events.Clear();
                browserKeys.Clear();
                serverKeys.Clear();
                keyOwners.Clear();
                var hits = 0;
                var now = _time.GetUtcNow();
                while (hits < MaxHitsPerGroup && _sink.Reader.TryRead(out var hit))
                {
                    hits++;
                    try
                    {
                        decoded.Clear();
                        Ga4HitDecoder.Decode(hit, decoded);
                        foreach (var d in decoded)
                        {
                            if (_gapFill is not null)
                            {
                                CollectTwinKeys(d, browserKeys, serverKeys, keyOwners);
                            }

                            if (_factory.FromHit(d, hit, now) is { } e)
                            {
                                events.Add(e);
                            }
                        }
                    }
                    catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
                    {
                        Log.HitUnreadable(_logger, ex);
                    }
                }

                if (_gapFill is not null && browserKeys.Count > 0)
                {
                    await RecordTwinsAsync(browserKeys, serverKeys, keyOwners, cancellationToken);
                }

                if (events.Count == 0)
                {
                    continue;
                }

                var statuses = await _store.AcceptAsync(events, durable: false, cancellationToken);
                var accepted = statuses.Count(static s => s == AcceptStatus.Accepted);
                _metrics.Accepted("hit", accepted);
                var full = statuses.Count(static s => s == AcceptStatus.StoreFull);
                if (full > 0)
                {
                    _metrics.DroppedEverywhere("store_full", full);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down: hits still queued were never promised to anyone.
        }
    }

    private void CollectTwinKeys(DecodedEvent decoded, List<UInt128> browserKeys, List<UInt128> serverKeys, List<int> keyOwners)
    {
        Span<UInt128> browser = stackalloc UInt128[GapFillGate.MaxKeys];
        Span<UInt128> server = stackalloc UInt128[GapFillGate.MaxKeys];
        var n = _gapFill!.BrowserKeys(decoded, browser, server);
        var owner = keyOwners.Count == 0 ? 0 : keyOwners[^1] + 1;
        for (var k = 0; k < n; k++)
        {
            browserKeys.Add(browser[k]);
            serverKeys.Add(server[k]);
            keyOwners.Add(owner);
        }
    }

    private async Task RecordTwinsAsync(List<UInt128> browserKeys, List<UInt128> serverKeys, List<int> keyOwners, CancellationToken cancellationToken)
    {
        try
        {
            await _gapFill!.RecordBrowserAsync(_store, browserKeys, serverKeys, keyOwners, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The store is away (Redis outage): a backend twin may then be sent too. Never stops the pipeline.
            Log.TwinMarkFailed(_logger, ex);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5603, Level = LogLevel.Warning, Message = "CAPI google_analytics: browser conversions could not be recorded for the gap-fill")]
        public static partial void TwinMarkFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 5202, Level = LogLevel.Debug, Message = "CAPI skipped an unreadable hit")]
        public static partial void HitUnreadable(ILogger logger, Exception exception);
    }
}
