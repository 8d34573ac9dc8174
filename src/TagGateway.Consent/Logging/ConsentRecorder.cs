using System.Text;
using Microsoft.Extensions.Options;
using TagGateway.Consent.Configuration;
using TagGateway.Consent.Policy;

namespace TagGateway.Consent.Logging;

/// <summary>Counts decisions and enqueues sampled audit-log entries. The request-path half of the audit log.</summary>
internal sealed class ConsentRecorder : IConsentRecorder, IDisposable
{
    private const int MaxFieldLength = 64;

    private readonly ConsentLogQueue _queue;
    private readonly ConsentMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly Random _random;
    private readonly IDisposable? _subscription;
    private volatile Settings _settings;

    public ConsentRecorder(ConsentLogQueue queue, ConsentMetrics metrics, IOptionsMonitor<ConsentOptions> options, TimeProvider timeProvider)
        : this(queue, metrics, options, timeProvider, Random.Shared)
    {
    }

    internal ConsentRecorder(ConsentLogQueue queue, ConsentMetrics metrics, IOptionsMonitor<ConsentOptions> options, TimeProvider timeProvider, Random random)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(random);
        _queue = queue;
        _metrics = metrics;
        _timeProvider = timeProvider;
        _random = random;

        // The sink is fixed at start (see ConsentLogWriter); sampling and the salt follow reloads.
        var startMode = options.CurrentValue.Log.Mode;
        _settings = Settings.From(options.CurrentValue.Log, startMode);
        _subscription = options.OnChange(o => _settings = Settings.From(o.Log, startMode));
    }

    public void Record(in ConsentDecision decision, ConsentContext context)
    {
        _metrics.RecordDecision(decision);

        var settings = _settings;
        if (!settings.Enabled || settings.SampleRate <= 0 || (settings.SampleRate < 1 && _random.NextDouble() >= settings.SampleRate))
        {
            return;
        }

        var entry = new ConsentLogEntry(
            _timeProvider.GetUtcNow(),
            decision,
            Field(context.TagId),
            ClientIdHasher.Hash(settings.Key, context.ClientId),
            Field(context.Region),
            Field(context.EventName));
        if (!_queue.TryWrite(entry))
        {
            _metrics.LogDropped();
        }
    }

    public void Dispose() => _subscription?.Dispose();

    // Fields are bounded so a hostile hit cannot inflate the log.
    private static string? Field(ReadOnlySpan<char> value) =>
        value.IsEmpty ? null : value.Length > MaxFieldLength ? value[..MaxFieldLength].ToString() : value.ToString();

    private sealed class Settings
    {
        private Settings(bool enabled, double sampleRate, byte[] key)
        {
            Enabled = enabled;
            SampleRate = sampleRate;
            Key = key;
        }

        public bool Enabled { get; }

        public double SampleRate { get; }

        public byte[] Key { get; }

        public static Settings From(ConsentLogOptions log, ConsentLogMode startMode) => new(
            startMode != ConsentLogMode.None && log.Mode != ConsentLogMode.None,
            log.SampleRate,
            Encoding.UTF8.GetBytes(log.ClientIdSalt ?? string.Empty));
    }
}
