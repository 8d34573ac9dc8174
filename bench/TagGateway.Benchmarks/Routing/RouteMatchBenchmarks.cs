using TagGateway.Hits;
using TagGateway.Routing;
using TagGateway.Scripts;

namespace TagGateway.Benchmarks.Routing;

/// <summary>What every request pays before it is forwarded: target checks, classification, tag validation.</summary>
[MemoryDiagnoser]
public class RouteMatchBenchmarks
{
    private const string Hit = "/metrics/g/collect?v=2&tid=G-ABC123XYZ9&gtm=45je5bi1v9117590405za200&_p=1749482504123&gcs=G111&gcd=13r3r3r3r5l1&npa=0&dma=1&cid=1162820436.1749482504&ul=en-us&sr=1920x1080&_s=3&sid=1749482504&sct=4&seg=1&dl=https%3A%2F%2Fshop.example.com%2Fcheckout&dt=Checkout&en=page_view";
    private const string Script = "/metrics/gtag/js?id=G-ABC123XYZ9&l=dataLayer&cx=c";
    private readonly TagRegistry _tags = new(["G-ABC123XYZ9", "GTM-P9TXQF82"]);

    [Benchmark]
    public int ParseAndClassifyHit()
    {
        RequestTarget.TryParse(Hit, "/metrics", out var target);
        return (int)MeasurementRoutes.Classify(target.Rest, target.Query);
    }

    [Benchmark]
    public int ParseAndClassifyScript()
    {
        RequestTarget.TryParse(Script, "/metrics", out var target);
        return (int)MeasurementRoutes.Classify(target.Rest, target.Query);
    }

    /// <summary>The hit model's one walk of the query: kind, destination check, client, event, page, user data.</summary>
    [Benchmark]
    public int ParseHitFacts()
    {
        RequestTarget.TryParse(Hit, "/metrics", out var target);
        return (int)HitFacts.TryParse(target.Rest, target.Query, out var facts) + (int)facts.Kind;
    }

    [Benchmark]
    public bool ValidateAndLookUpScriptTagId()
    {
        RequestTarget.TryParse(Script, "/metrics", out var target);
        return ScriptLoadQuery.Validate(target.Query, _tags, out _) == ScriptLoadVerdict.Ok;
    }
}
