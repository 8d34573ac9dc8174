using System.Text;
using Microsoft.Extensions.Configuration;
using TagGateway.Consent;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;

namespace TagGateway.Benchmarks.Consent;

/// <summary>
/// Consent decoding and deciding on a realistic batched GA4 hit. Every benchmark must report 0 B allocated:
/// the gateway runs this for every event it forwards.
/// </summary>
[MemoryDiagnoser]
public class ConsentDecodeBenchmarks
{
    private const string Query = "v=2&tid=G-TEST123&gtm=45je5ca1v9181158393za200&_p=1712345678901&gcs=G111&gcd=13r3r3r2r5l1&npa=0&dma=1"
        + "&dma_cps=syphlamo&gdpr=1&gdpr_consent=CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA.YAAAAAAAAAAA"
        + "&gpp=DBABMA%7ECPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA&gpp_sid=2&cid=123456789.1712345678&ul=en-us&sr=1920x1080"
        + "&uaa=x86&uab=64&uafvl=Google%2520Chrome%3B137.0.7151.55%7CChromium%3B137.0.7151.55&uamb=0&uam=&uap=Windows&uapv=19.0.0"
        + "&_s=1&sid=1712345678&sct=3&seg=1&dl=https%3A%2F%2Fshop.example%2Fproduct%2F42&dr=https%3A%2F%2Fwww.google.com%2F&dt=Lamp"
        + "&en=page_view&_et=12&tfd=1234";

    private static readonly byte[] Body = Encoding.UTF8.GetBytes(
        "en=view_item&_et=120&ep.item_list=related&pr1=idSKU_1~nmLamp~pr19.99~qt1\r\n"
        + "en=add_to_cart&gcs=G100&gcd=13q3q3q3q5&pr1=idSKU_1~nmLamp~pr19.99~qt1\r\n"
        + "en=scroll&npa=1&epn.percent_scrolled=90\r\n");

    private IConsentPolicy _policy = null!;
    private ServiceProvider _services = null!;

    [GlobalSetup]
    public void Setup()
    {
        _services = new ServiceCollection()
            .AddLogging()
            .AddTagGatewayConsent(new ConfigurationBuilder().Build())
            .BuildServiceProvider();
        _policy = _services.GetRequiredService<IConsentPolicy>();
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    /// <summary>The URL query of a hit: decode once.</summary>
    [Benchmark(Baseline = true)]
    public ConsentSignals DecodeUrl() => ConsentSignals.FromQuery(Query, globalPrivacyControl: false);

    /// <summary>The URL plus each of three body lines merged over it.</summary>
    [Benchmark]
    public int DecodeBatchedHit()
    {
        var hash = 0;
        var url = ConsentSignals.FromQuery(Query, globalPrivacyControl: true);
        foreach (var line in HitBody.EnumerateLines(Body))
        {
            hash ^= url.WithOverrides(line).GetHashCode();
        }

        return hash;
    }

    /// <summary>Decode and decide for every destination, as the forwarding path does per event.</summary>
    [Benchmark]
    public int DecodeAndDecideBatchedHit()
    {
        var sent = 0;
        var url = ConsentSignals.FromQuery(Query, globalPrivacyControl: false);
        foreach (var line in HitBody.EnumerateLines(Body))
        {
            var decision = _policy.Decide(url.WithOverrides(line), "DE");
            for (var d = 0; d < decision.DestinationCount; d++)
            {
                sent += decision.For((ConsentDestination)d).MaySend ? 1 : 0;
            }
        }

        return sent;
    }
}
