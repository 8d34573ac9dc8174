using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace TagGateway.Tests.Infrastructure;

/// <summary>One log line as the gateway wrote it.</summary>
public sealed record LogLine(string Category, LogLevel Level, int EventId, string Message);

/// <summary>Keeps every log line the gateway writes, for assertions on warnings.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<LogLine> _lines = new();

    public IReadOnlyCollection<LogLine> Lines => _lines;

    public IEnumerable<LogLine> WithId(int eventId) => _lines.Where(l => l.EventId == eventId);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._lines.Enqueue(new LogLine(category, logLevel, eventId.Id, formatter(state, exception)));
    }
}
