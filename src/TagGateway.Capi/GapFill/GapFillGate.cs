using System.Collections.Frozen;
using Microsoft.Extensions.Logging;
using TagGateway.Capi.Dedup;
using TagGateway.Capi.Mapping;
using TagGateway.Capi.Model;
using TagGateway.Capi.Observability;
using TagGateway.Capi.Storage;

namespace TagGateway.Capi.GapFill;

/// <summary>
/// Google Analytics gap-fill (issue #13): GA must get each conversion once, from the browser or from the server.
/// The browser's GA4 hits pass through the gateway, so every conversion hit leaves a browser mark (event name,
/// transaction id and explicit event id) in the store; a backend event for GA waits the gap-fill window and is then
/// sent only if no such mark exists, else it is completed as cancelled. After a send a server mark is set, so a browser
/// hit arriving later is recognised (and counted) as a late twin: the host forwards it anyway, as it forwards every
/// hit. Marks live in the journal (they survive a restart) or in Redis (every instance sees them), for the dedup TTL.
/// </summary>
internal sealed partial class GapFillGate
{
    /// <summary>At most two keys per event: its transaction id and its explicit event id.</summary>
    public const int MaxKeys = 2;

    private readonly FrozenSet<string> _events;
    private readonly CapiMetrics? _metrics;
    private readonly ILogger _logger;
    private long _sent;
    private long _cancelled;
    private long _late;
    private long _stale;

    public GapFillGate(bool enabled, IEnumerable<string> events, CapiMetrics? metrics, ILogger<GapFillGate> logger)
    {
        IsEnabled = enabled;
        _events = enabled ? events.ToFrozenSet(StringComparer.Ordinal) : FrozenSet<string>.Empty;
        _metrics = metrics;
        _logger = logger;
    }

    public static GapFillGate Create(Configuration.CapiOptions options, EventNameMap map, CapiMetrics? metrics, ILogger<GapFillGate> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(map);
        return new GapFillGate(options.GoogleAnalytics.IsConfigured, map.Names(CapiDestination.GoogleAnalytics), metrics, logger);
    }

    public bool IsEnabled { get; }

    /// <summary>
    /// The mark keys of a decoded browser event, on the pipeline's thread for every event of every hit: a frozen-set
    /// lookup and nothing else (no allocation) unless the event is one GA is gap-filled for.
    /// </summary>
    public int BrowserKeys(DecodedEvent decoded, Span<UInt128> browser, Span<UInt128> server)
    {
        ArgumentNullException.ThrowIfNull(decoded);
        if (!_events.Contains(decoded.Name))
        {
            return 0;
        }

        // A derived id ("tg." + digest, gtag gave none) can never equal a backend's: only the site's own ids count.
        var eventId = decoded.EventId.StartsWith("tg.", StringComparison.Ordinal) ? null : decoded.EventId;
        return Keys(decoded.Name, decoded.TransactionId, eventId, browser, server);
    }

    /// <summary>The mark keys of a stored backend event (browser: what cancels it; server: what it leaves once sent).</summary>
    public static int ServerKeys(CapiEvent e, Span<UInt128> browser, Span<UInt128> server)
    {
        ArgumentNullException.ThrowIfNull(e);
        return Keys(e.Name, e.TransactionId, e.EventId, browser, server);
    }

    private static int Keys(string name, string? transactionId, string? eventId, Span<UInt128> browser, Span<UInt128> server)
    {
        var n = 0;
        if (!string.IsNullOrEmpty(transactionId))
        {
            browser[n] = DedupKey.Twin(browser: true, name, 't', transactionId);
            server[n++] = DedupKey.Twin(browser: false, name, 't', transactionId);
        }

        if (!string.IsNullOrEmpty(eventId) && eventId != transactionId)
        {
            browser[n] = DedupKey.Twin(browser: true, name, 'e', eventId);
            server[n++] = DedupKey.Twin(browser: false, name, 'e', eventId);
        }

        return n;
    }

    /// <summary>
    /// Records the browser conversions of a group of hits (GA has them) and counts those whose server copy was already
    /// sent (late twins: GA now has both, the gap-fill window was too short for this visitor).
    /// </summary>
    public async ValueTask RecordBrowserAsync(ICapiStore store, List<UInt128> browserKeys, List<UInt128> serverKeys, List<int> eventOfKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(browserKeys);
        ArgumentNullException.ThrowIfNull(serverKeys);
        ArgumentNullException.ThrowIfNull(eventOfKey);
        if (browserKeys.Count == 0)
        {
            return;
        }

        var sent = await store.HasMarksAsync(serverKeys, cancellationToken);
        await store.SetMarksAsync(browserKeys, cancellationToken);
        int late = 0, last = -1;
        for (var i = 0; i < sent.Length; i++)
        {
            if (sent[i] && eventOfKey[i] != last)
            {
                late++;
                last = eventOfKey[i];
            }
        }

        if (late > 0)
        {
            Interlocked.Add(ref _late, late);
            _metrics?.GapFill("late_browser_twin", late);
            Log.LateTwins(_logger, late);
        }
    }

    /// <summary>
    /// Splits a ready batch of backend events: those a browser hit already reported are completed as dropped
    /// (cancelled_by_browser) and left out; the rest are returned to be sent.
    /// </summary>
    public async ValueTask<List<CapiEvent>> CancelBrowserTwinsAsync(ICapiStore store, List<CapiEvent> batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(batch);
        var keys = new List<UInt128>(batch.Count * MaxKeys);
        var owner = new List<int>(batch.Count * MaxKeys);
        Span<UInt128> browser = stackalloc UInt128[MaxKeys];
        Span<UInt128> server = stackalloc UInt128[MaxKeys];
        for (var i = 0; i < batch.Count; i++)
        {
            var n = ServerKeys(batch[i], browser, server);
            for (var k = 0; k < n; k++)
            {
                keys.Add(browser[k]);
                owner.Add(i);
            }
        }

        var seen = await store.HasMarksAsync(keys, cancellationToken);
        var cancelled = new HashSet<int>();
        for (var k = 0; k < seen.Length; k++)
        {
            if (seen[k])
            {
                cancelled.Add(owner[k]);
            }
        }

        if (cancelled.Count == 0)
        {
            return batch;
        }

        var send = new List<CapiEvent>(batch.Count - cancelled.Count);
        var completions = new List<Completion>(cancelled.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            if (cancelled.Contains(i))
            {
                completions.Add(new Completion(batch[i].Seq, CompletionKind.Dropped, "cancelled: the browser's own hit reached Google Analytics"));
            }
            else
            {
                send.Add(batch[i]);
            }
        }

        await store.CompleteAsync(CapiDestination.GoogleAnalytics, completions, cancellationToken);
        Interlocked.Add(ref _cancelled, completions.Count);
        _metrics?.GapFill("cancelled_by_browser", completions.Count);
        _metrics?.Dropped(CapiDestination.GoogleAnalytics, "cancelled_by_browser", completions.Count);
        Log.Cancelled(_logger, completions.Count);
        return send;
    }

    /// <summary>Leaves the server marks of delivered events, so a browser hit arriving later is counted as a late twin.</summary>
    public async ValueTask SentAsync(ICapiStore store, IReadOnlyList<CapiEvent> delivered, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(delivered);
        if (delivered.Count == 0)
        {
            return;
        }

        var keys = new List<UInt128>(delivered.Count * MaxKeys);
        Span<UInt128> browser = stackalloc UInt128[MaxKeys];
        Span<UInt128> server = stackalloc UInt128[MaxKeys];
        foreach (var e in delivered)
        {
            var n = ServerKeys(e, browser, server);
            for (var k = 0; k < n; k++)
            {
                keys.Add(server[k]);
            }
        }

        await store.SetMarksAsync(keys, cancellationToken);
        Interlocked.Add(ref _sent, delivered.Count);
        _metrics?.GapFill("sent", delivered.Count);
    }

    /// <summary>Events older than the Measurement Protocol's 72 hours, dropped before sending.</summary>
    public void Stale(int count)
    {
        Interlocked.Add(ref _stale, count);
        _metrics?.GapFill("dropped_stale", count);
    }

    public GapFillReport Report() => new(
        Interlocked.Read(ref _sent),
        Interlocked.Read(ref _cancelled),
        Interlocked.Read(ref _late),
        Interlocked.Read(ref _stale));

    private static partial class Log
    {
        [LoggerMessage(EventId = 5601, Level = LogLevel.Debug, Message = "CAPI google_analytics: {Count} backend events cancelled, the browser's own hit reached GA")]
        public static partial void Cancelled(ILogger logger, int count);

        [LoggerMessage(EventId = 5602, Level = LogLevel.Information, Message = "CAPI google_analytics: {Count} browser hits arrived after their server copy was sent (late twins; consider a longer GapFillWindow)")]
        public static partial void LateTwins(ILogger logger, int count);
    }
}

/// <summary>Gap-fill counts since start, in the match-quality report (per instance, like the other counts there).</summary>
internal sealed record GapFillReport(long Sent, long CancelledByBrowser, long LateBrowserTwin, long DroppedStale);
