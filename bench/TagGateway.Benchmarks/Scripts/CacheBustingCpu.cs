using System.Diagnostics;
using System.Globalization;
using System.Net;
using TagGateway.Pipeline;
using TagGateway.Routing;

namespace TagGateway.Benchmarks.Scripts;

/// <summary>
/// CPU a cache-busting script request costs, background work included, which BenchmarkDotNet cannot see (it times the
/// request thread; the Brotli-11 pass runs after the response). Sequential requests through the real handler, each
/// with a distinct junk parameter, then wait until the process's CPU time stops growing:
/// <c>dotnet run -c Release --project bench/TagGateway.Benchmarks -- cache-busting-cpu [script.js] [requests] [cb|gtm]</c>.
/// The script defaults to bench/load/make_script.py's 340 KB stand-in for gtag.js, written to a temp file first.
/// </summary>
internal static class CacheBustingCpu
{
    public static async Task<int> RunAsync(string[] args)
    {
        var scriptPath = args.Length > 1 ? args[1] : "/tmp/h-scripts/gtag.js";
        var count = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 40;

        // "cb" (default) varies a junk parameter; "gtm" varies a parameter the cache keys on (a new key each time).
        var varied = args.Length > 3 ? args[3] : "cb";
        var script = await File.ReadAllBytesAsync(scriptPath);
        var upstream = new CountingScriptUpstream(script);
        await using var app = InMemoryGateway.Create(upstream, ("Gateway:Scripts:MaxMissesPerSecond", "10000"), ("Gateway:Scripts:MissBurst", "100000"));
        var handler = app.Services.GetRequiredService<MeasurementRequestHandler>();

        // Warm-up: JIT and the first real fetch, outside the measurement.
        await ServeAsync(handler, "/metrics/gtag/js?id=G-ABC123XYZ9&l=dataLayer&cx=c");
        await ServeAsync(handler, "/metrics/gtag/js?id=G-ABC123XYZ9&l=dataLayer&cx=c");
        await SettleAsync();

        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        var fetchesBefore = upstream.Count;
        var wall = Stopwatch.StartNew();
        var statuses = new Dictionary<int, int>();
        for (var i = 0; i < count; i++)
        {
            var status = await ServeAsync(handler, $"/metrics/gtag/js?id=G-ABC123XYZ9&l=dataLayer&cx=c&{varied}={i}");
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
        }

        var requestWall = wall.Elapsed;
        await SettleAsync();
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{count} cache-busting requests ({varied}=N): {cpu.TotalMilliseconds / count:F2} ms CPU each (background work included), {requestWall.TotalMilliseconds / count:F2} ms wall each, {upstream.Count - fetchesBefore} upstream fetches, statuses {string.Join(", ", statuses.Select(s => $"{s.Key}x{s.Value}"))}"));
        return 0;
    }

    /// <summary>Waits until the process's CPU time grows by less than 20 ms over half a second (background passes done).</summary>
    private static async Task SettleAsync()
    {
        var process = Process.GetCurrentProcess();
        while (true)
        {
            process.Refresh();
            var before = process.TotalProcessorTime;
            await Task.Delay(500);
            process.Refresh();
            if ((process.TotalProcessorTime - before).TotalMilliseconds < 20)
            {
                return;
            }
        }
    }

    private static async Task<int> ServeAsync(MeasurementRequestHandler handler, string target)
    {
        var context = BenchRequest.Context(out var request);
        request.Method = "GET";
        request.RawTarget = target;
        request.Headers["Accept-Encoding"] = "gzip, deflate, br, zstd";
        request.Headers["User-Agent"] = "Mozilla/5.0 Safari/605.1.15";
        handler.TryHandle(context, out var handled);
        await handled;
        return context.Response.StatusCode;
    }

    private sealed class CountingScriptUpstream(byte[] script) : HttpMessageHandler
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _count);
            var content = new ByteArrayContent(script);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/javascript") { CharSet = "utf-8" };
            var response = new HttpResponseMessage(HttpStatusCode.OK) { Content = content, RequestMessage = request };
            response.Headers.TryAddWithoutValidation("Cache-Control", "private, max-age=900");
            return Task.FromResult(response);
        }
    }
}
