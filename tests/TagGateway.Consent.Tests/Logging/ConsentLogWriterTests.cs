using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using TagGateway.Consent.Configuration;
using TagGateway.Consent.Logging;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Tests.Logging;

public sealed class ConsentLogWriterTests : IDisposable
{
    private const string ClientId = "987654321.1712345678";
    private const string Ip = "203.0.113.77";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "consent-log-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public void Formatter_writes_one_parseable_json_line_with_the_decision()
    {
        // A hit that carries an IP (_uip) and a client id: neither may reach the log.
        var signals = ConsentSignals.FromQuery($"v=2&tid=G-TEST&cid={ClientId}&_uip={Ip}&gcs=G101&gcd=13q3r3q3q5&gpp_sid=x", false);
        var decision = TestPolicies.Create().Decide(signals, "DE");
        var entry = new ConsentLogEntry(
            new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero), decision, "G-TEST", ClientIdHasher.Hash("salt-salt-salt-salt"u8, ClientId), "DE", "page_view");

        using var formatter = new ConsentLogFormatter();
        var line = Encoding.UTF8.GetString(formatter.Format(entry));

        Assert.EndsWith("\n", line);
        Assert.Single(line.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain(ClientId, line);
        Assert.DoesNotContain("987654321", line);
        Assert.DoesNotContain(Ip, line);

        using var json = JsonDocument.Parse(line);
        var root = json.RootElement;
        Assert.Equal("2025-01-02T03:04:05Z", root.GetProperty("time").GetString());
        Assert.Equal("G-TEST", root.GetProperty("tag").GetString());
        Assert.Equal(32, root.GetProperty("client").GetString()!.Length);
        Assert.Equal("strict", root.GetProperty("profile").GetString());
        Assert.Equal("malformed", root.GetProperty("signals").GetProperty("gpp_sid").GetString());

        var analytics = root.GetProperty("consent").GetProperty("analytics_storage");
        Assert.Equal("granted", analytics.GetProperty("effective").GetString());
        Assert.Equal("gcd_update", analytics.GetProperty("source").GetString());
        Assert.Equal("granted", analytics.GetProperty("gcs").GetString());

        var destinations = root.GetProperty("destinations");
        Assert.Equal(5, destinations.EnumerateObject().Count());
        Assert.Equal("blocked", destinations.GetProperty("Meta").GetProperty("outcome").GetString());
        Assert.Equal("limited", destinations.GetProperty("GoogleAnalytics").GetProperty("outcome").GetString());
        Assert.Equal("google_npa", destinations.GetProperty("GoogleAnalytics").GetProperty("restricted").GetString());
    }

    [Fact]
    public async Task Writer_drains_the_queue_to_the_sink_as_json_lines()
    {
        using var host = new LoggingTestHost();
        var output = new MemoryStream();
        using var writer = new ConsentLogWriter(
            host.Queue, host.Metrics, Options.Create(host.Options), NullLogger<ConsentLogWriter>.Instance, _ => new StreamLogSink(output));

        await writer.StartAsync(CancellationToken.None);
        for (var i = 0; i < 50; i++)
        {
            var decision = TestPolicies.Decide(i % 2 == 0 ? "gcs=G111" : "gcs=G100", "US");
            host.Recorder.Record(decision, new ConsentContext("G-TEST", ClientId + i, "US", "page_view"));
        }

        await WaitUntilAsync(() => host.Queue.Reader.Count == 0);
        await writer.StopAsync(CancellationToken.None);

        var lines = Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(50, lines.Length);
        foreach (var line in lines)
        {
            using var json = JsonDocument.Parse(line);
            Assert.Equal("G-TEST", json.RootElement.GetProperty("tag").GetString());
            Assert.DoesNotContain("987654321", line);
        }
    }

    [Fact]
    public async Task Writer_reports_drops()
    {
        using var host = new LoggingTestHost(queueCapacity: 16);
        var logger = new FakeLogger<ConsentLogWriter>();
        var output = new MemoryStream();
        using var writer = new ConsentLogWriter(host.Queue, host.Metrics, Options.Create(host.Options), logger, _ => new StreamLogSink(output));

        // Fill the queue past capacity before the writer runs.
        for (var i = 0; i < 40; i++)
        {
            host.Recorder.Record(TestPolicies.Decide("v=2"), new ConsentContext("G-TEST", "1.2"));
        }

        await writer.StartAsync(CancellationToken.None);
        await WaitUntilAsync(() => logger.Collector.GetSnapshot().Any(r => r.Id.Id == 3102));
        await writer.StopAsync(CancellationToken.None);

        Assert.Contains(logger.Collector.GetSnapshot(), r => r.Id.Id == 3102 && r.Message.Contains("24 entries dropped", StringComparison.Ordinal));
    }

    [Fact]
    public async Task File_mode_writes_and_rotates_by_size()
    {
        var path = Path.Combine(_directory, "logs", "consent.jsonl");
        using var host = new LoggingTestHost(o =>
        {
            o.Mode = ConsentLogMode.File;
            o.Path = path;
            o.MaxFileBytes = 4096;
            o.MaxFiles = 3;
        });
        using var writer = new ConsentLogWriter(host.Queue, host.Metrics, Options.Create(host.Options), NullLogger<ConsentLogWriter>.Instance);

        await writer.StartAsync(CancellationToken.None);
        for (var i = 0; i < 60; i++)
        {
            host.Recorder.Record(TestPolicies.Decide("gcs=G111"), new ConsentContext("G-TEST", ClientId, "US", "e" + i));
        }

        await WaitUntilAsync(() => host.Queue.Reader.Count == 0);
        await writer.StopAsync(CancellationToken.None);

        Assert.True(File.Exists(path));
        Assert.True(File.Exists(path + ".1"));
        Assert.True(File.Exists(path + ".2"));
        Assert.False(File.Exists(path + ".3"));

        var events = new List<string>();
        foreach (var file in new[] { path + ".2", path + ".1", path })
        {
            Assert.InRange(new FileInfo(file).Length, 1, 4096);
            foreach (var line in File.ReadAllLines(file))
            {
                using var json = JsonDocument.Parse(line); // no line is ever split across files
                events.Add(json.RootElement.GetProperty("event").GetString()!);
            }
        }

        // Oldest files were deleted; what is kept is the newest events, in order.
        Assert.Equal("e59", events[^1]);
        Assert.True(events.Count < 60);
        Assert.Equal(Enumerable.Range(60 - events.Count, events.Count).Select(i => "e" + i), events);
    }

    [Fact]
    public async Task Rotating_sink_appends_to_an_existing_file_and_keeps_max_files()
    {
        var path = Path.Combine(_directory, "consent.jsonl");
        Directory.CreateDirectory(_directory);
        await File.WriteAllTextAsync(path, "{\"existing\":true}\n");
        var line = Encoding.UTF8.GetBytes(new string('x', 99) + "\n");

        var sink = new RotatingFileLogSink(path, maxBytes: 1000, maxFiles: 2);
        await using (sink)
        {
            for (var i = 0; i < 35; i++)
            {
                sink.WriteLine(line);
            }

            await sink.FlushAsync(CancellationToken.None);
        }

        Assert.True(sink.Rotations >= 3);
        Assert.False(File.Exists(path + ".2"));
        Assert.InRange(new FileInfo(path).Length, 100, 1000);
        Assert.Equal(1000, new FileInfo(path + ".1").Length);
    }

    [Fact]
    public async Task Single_file_mode_truncates_on_rotation()
    {
        var path = Path.Combine(_directory, "one.jsonl");
        var line = Encoding.UTF8.GetBytes(new string('y', 199) + "\n");

        var sink = new RotatingFileLogSink(path, maxBytes: 1000, maxFiles: 1);
        await using (sink)
        {
            for (var i = 0; i < 12; i++)
            {
                sink.WriteLine(line);
            }

            await sink.FlushAsync(CancellationToken.None);
        }

        Assert.Equal(2, sink.Rotations);
        Assert.Equal(400, new FileInfo(path).Length);
        Assert.False(File.Exists(path + ".1"));
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(10);
        }
    }
}
