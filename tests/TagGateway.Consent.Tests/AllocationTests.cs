using System.Text;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Tests;

public class AllocationTests
{
    private const string Query = "v=2&tid=G-TEST&gtm=45je5ca1v9&_p=1712345678901&cid=123456789.1712345678&ul=en-us&sr=1920x1080"
        + "&gcs=G111&gcd=13r3r3r2r5l1&npa=0&dma=1&dma_cps=syphlamo&gdpr=1"
        + "&gdpr_consent=CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA.YAAAAAAAAAAA&gpp=DBABMA%7ECPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA&gpp_sid=2"
        + "&dl=https%3A%2F%2Fexample.com%2F&dt=Home&en=page_view&_et=12";

    // A TC string longer than the stack buffer, so the pooled path is measured too.
    private static readonly string LongTcQuery = "v=2&gcd=13v3v3v3v5&gdpr=1&gdpr_consent=C" + new string('A', 1500) + ".YAAAAAAAAAAA";

    private static readonly byte[] Body = Encoding.UTF8.GetBytes("en=page_view&_et=1\r\nen=purchase&gcs=G100&gcd=13q3q3q3q5\r\nen=scroll&npa=1\r\nen=ads&gcs=G1--&gcd=13l3l3R3l5l1\r\n");

    [Fact]
    public void Decoding_a_batched_hit_and_deciding_allocates_nothing()
    {
        var policy = TestPolicies.Create();
        var sink = Run(policy); // warm up: JIT and static initialisation

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            sink += Run(policy);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.NotEqual(0, sink);
    }

    private static int Run(SnapshotPolicy policy)
    {
        var sent = 0;
        var url = ConsentSignals.FromQuery(Query, globalPrivacyControl: true);
        sent += ConsentSignals.FromQuery(LongTcQuery, globalPrivacyControl: false).TcfConsent == SignalPresence.WellFormed ? 1 : 0;
        foreach (var line in HitBody.EnumerateLines(Body))
        {
            var decision = policy.Decide(url.WithOverrides(line), "US-CA");
            for (var d = 0; d < decision.DestinationCount; d++)
            {
                sent += decision.For((ConsentDestination)d).MaySend ? 1 : 0;
            }

            sent += decision.For("Meta").MaySend ? 1 : 0;
            sent += decision.For(ConsentDestination.GoogleAnalytics).IdentifiersWithdrawn ? 1 : 0;
            sent += decision.DenialOf(ConsentType.AdUserData) == ConsentDenial.Update ? 1 : 0;
        }

        return sent;
    }
}
