using Microsoft.Extensions.Logging.Abstractions;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Model;
using TagGateway.Capi.Storage.Journal;

namespace TagGateway.Benchmarks.Capi;

/// <summary>
/// Events accepted into the durable store per second: <see cref="Producers"/> concurrent callers (as concurrent
/// server-to-server requests) each accept <see cref="EventsPerRequest"/> events and wait for the fsync, as the 202
/// does. One operation is one event, so 1 / mean = accepted events per second. The store lives in a temporary
/// directory on the machine's disk.
/// </summary>
[MemoryDiagnoser]
[WarmupCount(2)]
[IterationCount(8)]
public class CapiStoreBenchmarks
{
    private const int EventsPerInvoke = 20_000;
    private JournalStore _store = null!;
    private string _path = null!;
    private CapiEvent[][] _requests = null!;
    private long _round;

    [Params(64)]
    public int Producers { get; set; }

    [Params(1, 10)]
    public int EventsPerRequest { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _path = Path.Combine(Path.GetTempPath(), "capi-bench-" + Guid.NewGuid().ToString("N"));
        _store = new JournalStore(new StoreOptions { Path = _path, MaxBytes = 64L * 1024 * 1024 * 1024, SegmentBytes = 64L * 1024 * 1024 },
            TimeSpan.FromHours(48), TimeSpan.Zero, TimeProvider.System, NullLogger.Instance);
        _store.OpenAsync(default).GetAwaiter().GetResult();
        _requests = new CapiEvent[EventsPerInvoke / EventsPerRequest][];
    }

    [IterationSetup]
    public void Fill()
    {
        // Fresh event ids each iteration, so every event is new to the dedup ledger (the expensive path).
        var round = Interlocked.Increment(ref _round);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        for (var r = 0; r < _requests.Length; r++)
        {
            var request = new CapiEvent[EventsPerRequest];
            for (var i = 0; i < EventsPerRequest; i++)
            {
                request[i] = Sample(round, (r * EventsPerRequest) + i, now);
            }

            _requests[r] = request;
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_path, recursive: true);
    }

    [Benchmark(OperationsPerInvoke = EventsPerInvoke)]
    public async Task AcceptDurably()
    {
        var next = -1;
        var producers = new Task[Producers];
        for (var p = 0; p < producers.Length; p++)
        {
            producers[p] = Task.Run(async () =>
            {
                int r;
                while ((r = Interlocked.Increment(ref next)) < _requests.Length)
                {
                    await _store.AcceptAsync(_requests[r], durable: true, default);
                }
            });
        }

        await Task.WhenAll(producers);
    }

    internal static CapiEvent Sample(long round, int i, long now) => new()
    {
        Origin = EventOrigin.Server,
        Name = "purchase",
        EventId = $"bench-{round}-{i}",
        TimeMs = now,
        AcceptedMs = now,
        PageUrl = "https://shop.example/checkout/thank-you?order=12345",
        ClientId = "1162820436.1749482504",
        TransactionId = $"T-{round}-{i}",
        Currency = "EUR",
        Value = 129.90m,
        Items = [new CapiItem { Id = "SKU-1", Name = "Lamp", Price = 64.95m, Quantity = 2 }],
        Region = "DE-BE",
        Destinations = 0b1111,
        Consent = 0xFFFF,
        Identity = new IdentityData
        {
            Em = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f",
            EmGoogle = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f",
            Ph = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176",
            PhE164 = "fb4f73a6ec5fdb7077d564cdd22c3554b43ce49168550c3b12c547b78c517b30",
            Fn = "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec",
            Ln = "6915771be1c5aa0c886870b6951b03d7eafc121fea0e80a5ea83beb7c449f4ec",
            Zip = "10115",
            Country = "de",
            Fbp = "fb.1.1642973591141.184636131",
            Ip = "203.0.113.9",
            UserAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/137.0.0.0 Safari/537.36",
        },
    };
}
