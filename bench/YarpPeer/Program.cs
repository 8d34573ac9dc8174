using System.Net;
using Yarp.ReverseProxy.Configuration;
using Yarp.ReverseProxy.Forwarder;
using Yarp.ReverseProxy.Transforms;

// The YARP peer: what a team would write with YARP to do the gateway's job for a hit, and ASP.NET Core's output
// cache in front of the script path. Arguments: --urls http://127.0.0.1:PORT --upstream http://127.0.0.1:PORT
// --host g-bench12345.fps.goog --path /metrics. With --floor true it is the harness's Kestrel floor instead: Kestrel
// alone, reading each request's body and answering 204 with no upstream call, so a run shows what the server side of
// ASP.NET Core costs per hit beside what nginx spends on a whole proxied hit.
var builder = WebApplication.CreateSlimBuilder(args);
var floor = string.Equals(builder.Configuration["floor"], "true", StringComparison.OrdinalIgnoreCase);
var upstream = builder.Configuration["upstream"] ?? "http://127.0.0.1:8081";
var upstreamHost = builder.Configuration["host"] ?? "g-bench12345.fps.goog";
var path = (builder.Configuration["path"] ?? "/metrics").TrimEnd('/');

builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(static o => o.SingleLine = true);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(static k => k.AddServerHeader = false);

// Scripts: cached in memory for the upstream's max-age, one entry per query and Accept-Encoding value; the output
// cache answers If-None-Match with 304 from the stored ETag.
builder.Services.AddOutputCache(static o => o.AddPolicy("scripts", static p => p.Expire(TimeSpan.FromMinutes(15)).SetVaryByHeader("Accept-Encoding")));

RouteConfig[] routes =
[
    new()
    {
        RouteId = "scripts",
        ClusterId = "upstream",
        Order = 0,
        OutputCachePolicy = "scripts",
        Match = new RouteMatch { Path = path + "/gtag/js", Methods = ["GET", "HEAD"] },
    },
    new()
    {
        RouteId = "hits",
        ClusterId = "upstream",
        Order = 1,
        Match = new RouteMatch { Path = path + "/{**rest}" },
    },
];

ClusterConfig[] clusters =
[
    new()
    {
        ClusterId = "upstream",
        Destinations = new Dictionary<string, DestinationConfig>(StringComparer.Ordinal) { ["fake"] = new() { Address = upstream } },
        HttpRequest = new ForwarderRequestConfig { Version = HttpVersion.Version11, VersionPolicy = HttpVersionPolicy.RequestVersionOrLower },
    },
];

builder.Services.AddReverseProxy()
    .LoadFromMemory(routes, clusters)
    .AddTransforms(context =>
    {
        // The path (with the measurement prefix) and query go through unchanged; Host is the fps.goog name.
        context.UseDefaultForwarders = false;
        context.AddXForwardedFor(action: ForwardedTransformActions.Set);
        context.AddRequestTransform(transform =>
        {
            var proxyRequest = transform.ProxyRequest;
            proxyRequest.Headers.Host = upstreamHost;

            // Only Google's first-party cookies go upstream, as the gateway does.
            proxyRequest.Headers.Remove("Cookie");
            var cookies = transform.HttpContext.Request.Headers.Cookie;
            foreach (var header in cookies)
            {
                if (header is not null && GoogleCookies.Filter(header) is { } kept)
                {
                    proxyRequest.Headers.TryAddWithoutValidation("Cookie", kept);
                }
            }

            return ValueTask.CompletedTask;
        });
    });

var app = builder.Build();
if (floor)
{
    app.Run(static async context =>
    {
        var reader = context.Request.BodyReader;
        while (true)
        {
            var read = await reader.ReadAsync(context.RequestAborted);
            reader.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
            {
                break;
            }
        }

        context.Response.StatusCode = StatusCodes.Status204NoContent;
    });
    app.Run();
    return;
}

app.UseOutputCache();
app.MapReverseProxy();
app.Run();

/// <summary>The gateway's rule: keep <c>_ga*</c>, <c>_gid</c>, <c>_gcl*</c> and <c>FP</c> + upper-case letter.</summary>
internal static class GoogleCookies
{
    public static string? Filter(string header)
    {
        var kept = new List<string>(4);
        foreach (var part in header.Split(';', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? part : part[..eq].Trim();
            if (name.StartsWith("_ga", StringComparison.Ordinal) || name.StartsWith("_gcl", StringComparison.Ordinal) || name == "_gid"
                || (name.Length > 2 && name[0] == 'F' && name[1] == 'P' && char.IsAsciiLetterUpper(name[2])))
            {
                kept.Add(part);
            }
        }

        return kept.Count == 0 ? null : string.Join("; ", kept);
    }
}
