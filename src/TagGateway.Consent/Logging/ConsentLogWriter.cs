using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TagGateway.Consent.Configuration;

namespace TagGateway.Consent.Logging;

/// <summary>
/// The single background writer of the consent audit log: drains the queue, formats each entry as a JSON line and
/// writes it to stdout or the rotating file, flushing after each drained batch. The sink is chosen at start.
/// </summary>
internal sealed partial class ConsentLogWriter : BackgroundService
{
    private readonly ConsentLogQueue _queue;
    private readonly ConsentMetrics _metrics;
    private readonly ILogger<ConsentLogWriter> _logger;
    private readonly ConsentLogOptions _options;
    private readonly Func<ConsentLogOptions, IConsentLogSink> _sinkFactory;

    public ConsentLogWriter(ConsentLogQueue queue, ConsentMetrics metrics, IOptions<ConsentOptions> options, ILogger<ConsentLogWriter> logger)
        : this(queue, metrics, options, logger, CreateSink)
    {
    }

    internal ConsentLogWriter(
        ConsentLogQueue queue,
        ConsentMetrics metrics,
        IOptions<ConsentOptions> options,
        ILogger<ConsentLogWriter> logger,
        Func<ConsentLogOptions, IConsentLogSink> sinkFactory)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(metrics);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(sinkFactory);
        _queue = queue;
        _metrics = metrics;
        _options = options.Value.Log;
        _logger = logger;
        _sinkFactory = sinkFactory;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_options.Mode == ConsentLogMode.None)
        {
            return;
        }

        // Leave StartAsync at once; opening a file must not delay host start-up.
        await Task.Yield();

        IConsentLogSink sink;
        try
        {
            sink = _sinkFactory(_options);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            var failedMode = ConsentNames.Of(_options.Mode);
            Log.SinkOpenFailed(_logger, failedMode, _options.Path, ex);
            return;
        }

        var mode = ConsentNames.Of(_options.Mode);
        Log.Started(_logger, mode, _options.SampleRate);
        using var formatter = new ConsentLogFormatter();
        await using (sink)
        {
            try
            {
                while (await _queue.Reader.WaitToReadAsync(stoppingToken))
                {
                    await DrainAsync(sink, formatter, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // Shutting down: write what is already queued, then stop.
                await DrainAsync(sink, formatter, CancellationToken.None);
            }
        }
    }

    private async Task DrainAsync(IConsentLogSink sink, ConsentLogFormatter formatter, CancellationToken cancellationToken)
    {
        var written = 0;
        try
        {
            while (_queue.Reader.TryRead(out var entry))
            {
                sink.WriteLine(formatter.Format(entry));
                written++;
            }

            await sink.FlushAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A full disk must not stop the gateway; the entries of this batch are lost and the writer carries on.
            Log.WriteFailed(_logger, ex);
        }

        if (written > 0)
        {
            _metrics.LogWritten(written);
        }

        var dropped = _queue.TakeDroppedCount();
        if (dropped > 0)
        {
            Log.EntriesDropped(_logger, dropped);
        }
    }

    private static IConsentLogSink CreateSink(ConsentLogOptions options) => options.Mode switch
    {
        ConsentLogMode.File => new RotatingFileLogSink(options.Path!, options.MaxFileBytes, options.MaxFiles),
        _ => new StreamLogSink(Console.OpenStandardOutput()),
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Consent audit log writing to {Mode} with sample rate {SampleRate}.")]
        public static partial void Started(ILogger logger, string mode, double sampleRate);

        [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "Consent audit log queue was full: {Count} entries dropped.")]
        public static partial void EntriesDropped(ILogger logger, long count);

        [LoggerMessage(EventId = 3103, Level = LogLevel.Error, Message = "Consent audit log write failed; the current batch was lost.")]
        public static partial void WriteFailed(ILogger logger, Exception exception);

        [LoggerMessage(EventId = 3104, Level = LogLevel.Error, Message = "Consent audit log could not open its {Mode} sink at '{Path}'; the audit log is off.")]
        public static partial void SinkOpenFailed(ILogger logger, string mode, string? path, Exception exception);
    }
}
