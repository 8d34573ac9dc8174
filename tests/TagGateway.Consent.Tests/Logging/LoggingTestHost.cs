using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using TagGateway.Consent.Configuration;
using TagGateway.Consent.Logging;

namespace TagGateway.Consent.Tests.Logging;

/// <summary>The request-side half of the audit log wired by hand: queue, metrics, recorder and a fake clock.</summary>
internal sealed class LoggingTestHost : IDisposable
{
    public const string Salt = "test-salt-0123456789";

    private readonly ServiceProvider _provider;

    public LoggingTestHost(Action<ConsentLogOptions>? configure = null, int queueCapacity = 1024, int seed = 42)
    {
        Options = new ConsentOptions();
        Options.Log.Mode = ConsentLogMode.Stdout;
        Options.Log.ClientIdSalt = Salt;
        configure?.Invoke(Options.Log);

        _provider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        MeterFactory = _provider.GetRequiredService<IMeterFactory>();
        Metrics = new ConsentMetrics(MeterFactory);
        Queue = new ConsentLogQueue(queueCapacity);
        Time = new FakeTimeProvider(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero));
        Recorder = new ConsentRecorder(Queue, Metrics, new StaticOptionsMonitor(Options), Time, new Random(seed));
    }

    public ConsentOptions Options { get; }

    public IMeterFactory MeterFactory { get; }

    public ConsentMetrics Metrics { get; }

    public ConsentLogQueue Queue { get; }

    public FakeTimeProvider Time { get; }

    public ConsentRecorder Recorder { get; }

    public List<ConsentLogEntry> DrainQueue()
    {
        var entries = new List<ConsentLogEntry>();
        while (Queue.Reader.TryRead(out var entry))
        {
            entries.Add(entry);
        }

        return entries;
    }

    public void Dispose()
    {
        Recorder.Dispose();
        _provider.Dispose();
    }

    private sealed class StaticOptionsMonitor(ConsentOptions value) : IOptionsMonitor<ConsentOptions>
    {
        public ConsentOptions CurrentValue => value;

        public ConsentOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<ConsentOptions, string?> listener) => null;
    }
}
