using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Dedup;
using TagGateway.Capi.Model;
using TagGateway.Capi.Observability;

namespace TagGateway.Capi.Storage.Redis;

/// <summary>
/// The outbox and dedup ledger in Redis, shared by every instance of a site (Capi:Store:Kind=Redis).
/// <list type="bullet">
/// <item>Ledger: one key per (destination, event name, event id), SET NX with the dedup TTL; the value names the
/// event and when it becomes ready, so a twin still inside its merge window absorbs the newcomer's identity.</item>
/// <item>Outbox: the event JSON in a hash, one stream per destination with one entry per event, one consumer group
/// ("gateway") read by every instance. An entry stays in the group's pending list until it is acknowledged.</item>
/// <item>A dead instance's pending entries are claimed (XAUTOCLAIM) by a live one after <see cref="RedisStoreOptions.ClaimIdle"/>.</item>
/// <item>Exactly once across instances: before sending, the take script sets a per-(destination, event) marker naming
/// the sender, atomically with checking the entry is still this consumer's and unmarked. A claimer that finds the
/// marker of a consumer whose heartbeat lapsed does not resend: the dead instance may have sent it (its request may have
/// reached the platform), so the event is dead-lettered as "uncertain", listed and replayable, never silently dropped.</item>
/// <item>Redis unreachable: accepted events are fsync'd to a bounded local spill (<see cref="RedisSpill"/>) and drained
/// when Redis returns; when the spill is full, acceptance is refused (503), never accepted and lost.</item>
/// </list>
/// </summary>
internal sealed partial class RedisCapiStore : ICapiStore
{
    private const string Group = "gateway";
    private const string UncertainPrefix = "uncertain: ";

    // A twin is merged only while this far from its send: instances' clocks and the read of a batch are not instantaneous.
    private const long MergeGuardMs = 250;

    private readonly CapiOptions _capi;
    private readonly RedisStoreOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CapiMetrics? _metrics;
    private readonly RedisStoreMetrics? _redisMetrics;
    private readonly string _prefix;
    private readonly long _dedupTtlMs;
    private readonly long _mergeWindowMs;
    private readonly long _claimIdleMs;
    private readonly RedisSpill _spill;
    private readonly DestinationState[] _states;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _drainGate = new(1, 1);
    private readonly long[] _readyDelayMs = new long[CapiDestinations.Count];

    private ConnectionMultiplexer? _mux;
    private Task _background = Task.CompletedTask;
    private volatile bool _healthy;
    private volatile bool _groupsReady;
    private long _lastErrorLogMs;
    private long _healthySinceMs;

    public RedisCapiStore(CapiOptions capi, TimeProvider time, ILogger logger, CapiMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(capi);
        _capi = capi;
        _options = capi.Store.Redis;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        _redisMetrics = metrics is null ? null : new RedisStoreMetrics(metrics.Meter, this);
        _prefix = _options.KeyPrefix;
        _dedupTtlMs = (long)capi.DedupTtl.TotalMilliseconds;
        _mergeWindowMs = (long)capi.MergeWindow.TotalMilliseconds;
        _claimIdleMs = (long)_options.ClaimIdle.TotalMilliseconds;
        ConsumerName = string.IsNullOrEmpty(_options.ConsumerName) ? DefaultConsumerName() : _options.ConsumerName;
        _spill = new RedisSpill(_options.SpillPath, _options.SpillMaxBytes);
        _states = [.. CapiDestinations.All.Select(d => new DestinationState(d, StreamKey(d)))];
    }

    /// <summary>This instance's name in the consumer groups and its heartbeat key.</summary>
    public string ConsumerName { get; }

    internal long SpillBytes => _spill.Bytes;

    internal bool Healthy => _healthy;

    private IDatabase Db => _mux!.GetDatabase();

    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        _spill.Open();
        var configuration = ConfigurationOptions.Parse(_options.Configuration);

        // Start and keep running without Redis: hits and scripts do not depend on it, and events go to the spill.
        configuration.AbortOnConnectFail = false;
        configuration.ConnectTimeout = (int)_options.OperationTimeout.TotalMilliseconds;
        configuration.SyncTimeout = (int)_options.OperationTimeout.TotalMilliseconds;
        configuration.AsyncTimeout = (int)_options.OperationTimeout.TotalMilliseconds;
        configuration.ClientName ??= ConsumerName;
        _mux = await ConnectionMultiplexer.ConnectAsync(configuration);
        await HeartbeatAsync();
        Log.Opened(_logger, ConsumerName, _prefix, _healthy, _spill.Bytes);
        _background = Task.Run(() => BackgroundAsync(_stopping.Token), CancellationToken.None);
        foreach (var state in _states)
        {
            state.Signal();
        }
    }

    public async ValueTask<StoreStatistics> StatisticsAsync(CancellationToken cancellationToken)
    {
        var pending = new int[CapiDestinations.Count];
        int events = -1, dead = -1;
        try
        {
            var db = Db;
            Task<long>[] lengths = [.. CapiDestinations.All.Select(d => db.StreamLengthAsync(StreamKey(d)))];
            var count = db.StringGetAsync(_prefix + "events");
            var deadCount = db.HashLengthAsync(DeadLetterKey);
            await Task.WhenAll([.. lengths, count, deadCount]);
            foreach (var d in CapiDestinations.All)
            {
                pending[(int)d] = (int)lengths[(int)d].Result;
            }

            events = (int)(long)count.Result;
            dead = (int)deadCount.Result;
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            // The status page still answers during an outage: -1 for what only Redis knows, the spill's bytes below.
            MarkUnhealthy(ex);
            Array.Fill(pending, -1);
        }

        // Bytes: the spill (local); ledger keys are not counted (a SCAN over a shared Redis is not worth a status page).
        return new StoreStatistics(_spill.Bytes, 0, events, -1, dead, pending);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync();
        }

        try
        {
            await _background;
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }

        if (_mux is not null)
        {
            try
            {
                // The heartbeat goes at once, so claimers need not wait for it to lapse on a clean stop.
                await Db.KeyDeleteAsync(_prefix + "alive:" + ConsumerName).WaitAsync(TimeSpan.FromSeconds(1));
            }
            catch (Exception ex) when (IsRedisFailure(ex))
            {
                // Unreachable: the heartbeat lapses by itself.
            }

            await _mux.CloseAsync();
            await _mux.DisposeAsync();
            _mux = null;
        }

        _spill.Dispose();
        _stopping.Dispose();
    }

    private long NowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    private RedisKey StreamKey(CapiDestination d) => _prefix + "s:" + d.Name();

    private RedisKey EventKey(long seq) => _prefix + "ev:" + seq.ToString(CultureInfo.InvariantCulture);

    private RedisKey MarkerKey(CapiDestination d, long seq) => _prefix + "m:" + d.Name() + ":" + seq.ToString(CultureInfo.InvariantCulture);

    private RedisKey LedgerKey(CapiDestination d, string name, string eventId) =>
        _prefix + "dd:" + DedupKey.Of(d, name, eventId).ToString("x32", CultureInfo.InvariantCulture);

    private RedisKey MarkKey(UInt128 key) => _prefix + "tw:" + key.ToString("x32", CultureInfo.InvariantCulture);

    private RedisKey DeadLetterKey => _prefix + "dl";

    private static string DefaultConsumerName()
    {
        // Host and pid name the instance for an operator; the random part makes each start a new consumer, so a
        // restarted container (same host name, pid 1) never mistakes its previous life's markers for its own.
        var host = Environment.MachineName;
        return $"{host}-{Environment.ProcessId}-{Random.Shared.Next(0x100000, 0xFFFFFF):x6}";
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5501, Level = LogLevel.Information, Message = "CAPI Redis store opened as consumer {Consumer} under prefix {Prefix} (Redis reachable: {Reachable}; spill holds {SpillBytes} bytes)")]
        public static partial void Opened(ILogger logger, string consumer, string prefix, bool reachable, long spillBytes);

        [LoggerMessage(EventId = 5502, Level = LogLevel.Warning, Message = "CAPI Redis unreachable: new events go to the local spill ({SpillBytes} bytes held); delivery pauses")]
        public static partial void Unreachable(ILogger logger, long spillBytes, Exception exception);

        [LoggerMessage(EventId = 5503, Level = LogLevel.Information, Message = "CAPI Redis reachable; draining the spill ({SpillBytes} bytes)")]
        public static partial void Reachable(ILogger logger, long spillBytes);

        [LoggerMessage(EventId = 5504, Level = LogLevel.Information, Message = "CAPI spill drained into Redis: {Events} events")]
        public static partial void Drained(ILogger logger, int events);

        [LoggerMessage(EventId = 5505, Level = LogLevel.Warning, Message = "CAPI spill full ({SpillBytes} of {MaxBytes} bytes) while Redis is unreachable: new events refused")]
        public static partial void SpillFull(ILogger logger, long spillBytes, long maxBytes);

        [LoggerMessage(EventId = 5506, Level = LogLevel.Error, Message = "CAPI spill write failed: new events refused")]
        public static partial void SpillFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 5507, Level = LogLevel.Information, Message = "CAPI {Destination}: claimed {Count} entries another consumer left pending")]
        public static partial void Claimed(ILogger logger, CapiDestination destination, int count);

        [LoggerMessage(EventId = 5508, Level = LogLevel.Warning, Message = "CAPI {Destination}: {Count} events were being sent by {Consumer} when it stopped; dead-lettered as uncertain (replay to resend)")]
        public static partial void Uncertain(ILogger logger, string destination, int count, string consumer);
    }
}
