using TagGateway.Configuration;
using TagGateway.Hosting;
using TagGateway.LiveView;

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
            return TypedResults.Json(demo.LastHit, DemoJsonContext.Default.DemoHit);
        });

        // The Set-Cookie headers of the newest response that set any (a page's script cannot read them: HttpOnly, and
        // fetch hides Set-Cookie), from the live view's ring: names, lifetimes and flags, values elided.
        endpoints.MapGet("/demo/set-cookies", static (LiveRecorder live, Listeners listeners, GatewayOptions options, HttpContext context) =>
        {
            context.Response.Headers.CacheControl = "no-store";
            var management = listeners.EndPointOf(ListenerKind.Management);
            var liveView = options.Management.UiEnabled && management is not null ? $"http://{management}/ui/" : null;
            return TypedResults.Json(new DemoSetCookies(liveView, LastSetCookies(live)), DemoJsonContext.Default.DemoSetCookies);
        });
    }

    private static List<string> LastSetCookies(LiveRecorder live)
    {
        var records = new LiveRecord[live.Capacity];
        var count = live.CopyNewest(0, records);
        foreach (var record in records.AsSpan(0, count))
        {
            if (record.CookieCount == 0)
            {
                continue;
            }

            var headers = new List<string>(record.CookieCount);
            foreach (var cookie in LiveViewModel.ToEntry(record, live).Cookies)
            {
                var lifetime = cookie.MaxAgeSeconds is { } seconds ? $"; Max-Age={seconds} ({(seconds >= 86400 ? $"{seconds / 86400} days" : $"{seconds} s")})" : " (session)";
                headers.Add($"Set-Cookie: {cookie.Name}=…{lifetime}{(cookie.HttpOnly ? "; HttpOnly" : "")}{(cookie.Secure ? "; Secure" : "")}");
            }

            return headers;
        }

        return [];
    }
}

/// <summary>The demo's view of the gateway's own Set-Cookie headers, and where the live view is.</summary>
internal sealed record DemoSetCookies(string? LiveView, List<string> SetCookie);
