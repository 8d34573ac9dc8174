using System.Collections.Concurrent;
using System.Reflection;
using System.Text;
using TagGateway.Configuration;

namespace TagGateway.Demo;

/// <summary>What the stand-in upstream saw of the last hit, shown on the demo page.</summary>
internal sealed record DemoHit(DateTimeOffset ReceivedAt, string Method, string Path, string Query, Dictionary<string, string> Headers, int BodyBytes);

/// <summary>
/// The built-in demo: a stand-in for Google on its own loopback listener (scripts and a collect endpoint that sets a
/// server-managed cookie, as sGTM does), and a page on <c>/</c> that loads a tag through the measurement path.
/// </summary>
internal sealed class DemoSite
{
    private readonly string _measurementPath;
    private readonly byte[] _page;
    private readonly byte[] _script;
    private readonly ConcurrentQueue<DemoHit> _hits = new();

    public DemoSite(GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _measurementPath = options.MeasurementPath;
        var tagId = options.TagIds.FirstOrDefault(static id => id.StartsWith("G-", StringComparison.Ordinal)) ?? options.TagIds[0];
        _page = Encoding.UTF8.GetBytes(ReadAsset("index.html")
            .Replace("{{MEASUREMENT_PATH}}", options.MeasurementPath, StringComparison.Ordinal)
            .Replace("{{TAG_ID}}", tagId, StringComparison.Ordinal));
        _script = Encoding.UTF8.GetBytes(ReadAsset("demo-tag.js"));
    }

    /// <summary>The demo page, with the measurement path and a tag filled in.</summary>
    public byte[] Page => _page;

    /// <summary>What the stand-in upstream saw of the last hit, or null.</summary>
    public DemoHit? LastHit => _hits.LastOrDefault();

    /// <summary>The stand-in upstream: answers like fps.goog would for scripts and hits.</summary>
    public async Task ServeUpstreamAsync(HttpContext context)
    {
        var request = context.Request;
        var path = request.Path.Value ?? string.Empty;
        var rest = path.StartsWith(_measurementPath, StringComparison.Ordinal) ? path[_measurementPath.Length..] : path;
        if (rest is "/gtag/js" or "/gtag.js" or "/gtm.js" or "" or "/")
        {
            context.Response.ContentType = "application/javascript; charset=utf-8";
            context.Response.Headers.CacheControl = "public, max-age=300";
            await context.Response.Body.WriteAsync(_script);
            return;
        }

        if (rest.StartsWith("/g/collect", StringComparison.Ordinal))
        {
            var bodyBytes = 0;
            var buffer = new byte[4096];
            int read;
            while ((read = await request.Body.ReadAsync(buffer)) > 0)
            {
                bodyBytes += read;
            }

            var headers = request.Headers.ToDictionary(static h => h.Key, static h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            _hits.Enqueue(new DemoHit(DateTimeOffset.UtcNow, request.Method, path, request.QueryString.Value ?? string.Empty, headers, bodyBytes));
            while (_hits.Count > 20)
            {
                _hits.TryDequeue(out _);
            }

            // As sGTM's GA4 client does for a server-managed client ID: an HttpOnly cookie set by the response.
            if (!request.Cookies.ContainsKey("FPID"))
            {
                context.Response.Headers.Append("Set-Cookie", $"FPID=FPID2.2.{Guid.NewGuid():N}; Path=/; Max-Age=34560000; HttpOnly; SameSite=Lax");
            }

            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        context.Response.StatusCode = StatusCodes.Status404NotFound;
    }

    private static string ReadAsset(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"TagGateway.Demo.{name}")
            ?? throw new InvalidOperationException($"Demo asset {name} is not embedded.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
