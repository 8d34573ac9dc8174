using TagGateway.Management;

namespace TagGateway.Demo;

/// <summary>The demo page and its last-hit report, on the public listener while the demo runs.</summary>
internal static class DemoEndpoints
{
    public static void MapDemo(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", static (DemoSite demo) => TypedResults.Bytes(demo.Page, "text/html; charset=utf-8"));
        endpoints.MapGet("/demo/last-hit", static (DemoSite demo, HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "no-store";
            return demo.LastHit is { } hit
                ? Results.Json(hit, GatewayJsonContext.Default.DemoHit)
                : Results.Json<DemoHit?>(null, GatewayJsonContext.Default.DemoHit);
        });
    }
}
