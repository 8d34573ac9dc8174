using Microsoft.Extensions.Logging.Abstractions;
using TagGateway.Capi.GapFill;
using TagGateway.Capi.Mapping;

namespace TagGateway.Benchmarks.Capi;

/// <summary>
/// The Google Analytics gap-fill check the hit pipeline runs on every decoded event of every forwarded hit (issue #13):
/// a page_view (not a conversion) must cost a frozen-set lookup and allocate nothing; a purchase computes its browser
/// and server mark keys (SHA-256 over name and id, stack buffers).
/// </summary>
[MemoryDiagnoser]
public class GapFillCheckBenchmarks
{
    private readonly GapFillGate _gate = new(enabled: true, ["purchase", "refund", "generate_lead", "sign_up"], metrics: null, NullLogger<GapFillGate>.Instance);

    private readonly DecodedEvent _pageView = new() { Name = "page_view", EventId = "tg.0123456789abcdef01234567" };

    private readonly DecodedEvent _purchase = new() { Name = "purchase", EventId = "ORDER-100234", TransactionId = "ORDER-100234" };

    private readonly DecodedEvent _purchaseWithEventId = new() { Name = "purchase", EventId = "evt-7f3a", TransactionId = "ORDER-100235" };

    [Benchmark(Baseline = true)]
    public int NotAConversion()
    {
        Span<UInt128> browser = stackalloc UInt128[GapFillGate.MaxKeys];
        Span<UInt128> server = stackalloc UInt128[GapFillGate.MaxKeys];
        return _gate.BrowserKeys(_pageView, browser, server);
    }

    [Benchmark]
    public int PurchaseTransactionId()
    {
        Span<UInt128> browser = stackalloc UInt128[GapFillGate.MaxKeys];
        Span<UInt128> server = stackalloc UInt128[GapFillGate.MaxKeys];
        return _gate.BrowserKeys(_purchase, browser, server);
    }

    [Benchmark]
    public int PurchaseTransactionAndEventId()
    {
        Span<UInt128> browser = stackalloc UInt128[GapFillGate.MaxKeys];
        Span<UInt128> server = stackalloc UInt128[GapFillGate.MaxKeys];
        return _gate.BrowserKeys(_purchaseWithEventId, browser, server);
    }
}
