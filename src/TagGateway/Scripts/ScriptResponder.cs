using System.Globalization;
using System.IO.Compression;

namespace TagGateway.Scripts;

/// <summary>Writes a cached script: the encoding the browser accepts, a strong ETag, 304 when it already has it.</summary>
internal static class ScriptResponder
{
    private static readonly string[] SmallNumbers = CreateSmallNumbers(4096);

    public static Task WriteAsync(HttpContext context, CachedScript script, string cacheStatus, DateTimeOffset now, string defaultCacheControl)
    {
        var request = context.Request;
        var response = context.Response;
        var encoding = Negotiate(request.Headers.AcceptEncoding);
        var (etag, body) = encoding switch
        {
            ContentCoding.Brotli => (script.ETagBrotli, script.Brotli),
            ContentCoding.Gzip => (script.ETagGzip, script.Gzip),
            _ => (script.ETagIdentity, null),
        };

        var headers = response.Headers;
        foreach (var (name, value) in script.Headers)
        {
            headers[name] = value;
        }

        // The body is shared but Set-Cookie is this visitor's: with cookies on it, no shared cache may keep the response.
        var cacheControl = script.CacheControlHeader ?? defaultCacheControl;
        headers.CacheControl = headers.SetCookie.Count > 0 ? Private(cacheControl) : cacheControl;
        headers.ETag = etag;
        headers.Vary = script.VaryHeader;
        headers.Age = Seconds(script.AgeAt(now));
        headers["X-TagGateway-Cache"] = cacheStatus;

        if (IfNoneMatchHits(request.Headers.IfNoneMatch, script.ETagBase))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        response.StatusCode = StatusCodes.Status200OK;
        headers.ContentType = script.ContentType;
        if (encoding != ContentCoding.Identity)
        {
            headers.ContentEncoding = encoding == ContentCoding.Brotli ? "br" : "gzip";
        }

        response.ContentLength = body?.Length ?? script.IdentityLength;
        if (HttpMethods.IsHead(request.Method))
        {
            return Task.CompletedTask;
        }

        return body is not null
            ? WriteWholeAsync(response, body, context.RequestAborted)
            : WriteIdentityAsync(response, script, context.RequestAborted);
    }

    /// <summary>
    /// The head goes out first (<c>StartAsync</c>), so the body's <c>GetMemory</c> reaches the connection's pipe itself:
    /// one segment the size of the body instead of Kestrel's 4 KB blocks, one copy, one gather entry for the socket.
    /// Written before the head, the same bytes would be leased, then copied again behind it.
    /// </summary>
    private static Task WriteWholeAsync(HttpResponse response, byte[] body, CancellationToken cancellationToken)
    {
        var start = response.StartAsync(cancellationToken);
        if (!start.IsCompletedSuccessfully)
        {
            return AfterStartAsync(start, response, body, cancellationToken);
        }

        var flush = CopyAndFlush(response.BodyWriter, body, cancellationToken);
        return flush.IsCompletedSuccessfully ? Task.CompletedTask : flush.AsTask();

        static async Task AfterStartAsync(Task start, HttpResponse response, byte[] body, CancellationToken cancellationToken)
        {
            await start;
            await CopyAndFlush(response.BodyWriter, body, cancellationToken);
        }
    }

    private static ValueTask<System.IO.Pipelines.FlushResult> CopyAndFlush(System.IO.Pipelines.PipeWriter writer, byte[] body, CancellationToken cancellationToken)
    {
        var rest = body.AsSpan();
        while (!rest.IsEmpty)
        {
            var span = writer.GetSpan(rest.Length);
            var count = Math.Min(span.Length, rest.Length);
            rest[..count].CopyTo(span);
            writer.Advance(count);
            rest = rest[count..];
        }

        return writer.FlushAsync(cancellationToken);
    }

    private static async Task WriteIdentityAsync(HttpResponse response, CachedScript script, CancellationToken cancellationToken)
    {
        // Browsers all accept gzip or br; the rare client that accepts neither gets the gzip copy inflated on the fly.
        await using var inflater = new GZipStream(new MemoryStream(script.Gzip, writable: false), CompressionMode.Decompress);
        await inflater.CopyToAsync(response.Body, cancellationToken);
    }

    internal enum ContentCoding
    {
        Identity,
        Gzip,
        Brotli,
    }

    /// <summary>Brotli when accepted, else gzip, else identity; a token with q=0 is refused.</summary>
    internal static ContentCoding Negotiate(Microsoft.Extensions.Primitives.StringValues acceptEncoding)
    {
        bool brotli = false, gzip = false;
        foreach (var value in acceptEncoding)
        {
            var header = value.AsSpan();
            foreach (var range in header.Split(','))
            {
                var token = header[range].Trim();
                var semicolon = token.IndexOf(';');
                var coding = (semicolon < 0 ? token : token[..semicolon]).Trim();
                if (semicolon >= 0 && IsZeroQuality(token[(semicolon + 1)..]))
                {
                    continue;
                }

                if (coding.Equals("br", StringComparison.OrdinalIgnoreCase))
                {
                    brotli = true;
                }
                else if (coding.Equals("gzip", StringComparison.OrdinalIgnoreCase) || coding is "*")
                {
                    gzip = true;
                }
            }
        }

        return brotli ? ContentCoding.Brotli : gzip ? ContentCoding.Gzip : ContentCoding.Identity;
    }

    private static bool IsZeroQuality(ReadOnlySpan<char> parameters)
    {
        var eq = parameters.IndexOf('=');
        if (eq < 0 || !parameters[..eq].Trim().Equals("q", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        return double.TryParse(parameters[(eq + 1)..].Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var q) && q <= 0;
    }

    /// <summary>If-None-Match compares weakly (RFC 9110 13.1.2): any encoding's tag of this body matches.</summary>
    internal static bool IfNoneMatchHits(Microsoft.Extensions.Primitives.StringValues ifNoneMatch, string etagBase)
    {
        foreach (var value in ifNoneMatch)
        {
            var header = value.AsSpan();
            foreach (var range in header.Split(','))
            {
                var tag = header[range].Trim();
                if (tag is "*")
                {
                    return true;
                }

                if (tag.StartsWith("W/", StringComparison.Ordinal))
                {
                    tag = tag[2..];
                }

                if (tag.Length < 2 || tag[0] != '"' || tag[^1] != '"')
                {
                    continue;
                }

                var opaque = tag[1..^1];
                var dot = opaque.IndexOf('.');
                if ((dot < 0 ? opaque : opaque[..dot]).SequenceEqual(etagBase))
                {
                    return true;
                }
            }
        }

        return false;
    }

    internal static string Private(string cacheControl)
    {
        if (cacheControl.Contains("private", StringComparison.OrdinalIgnoreCase))
        {
            return cacheControl;
        }

        var withoutPublic = string.Join(", ", cacheControl.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Where(static d => !d.Equals("public", StringComparison.OrdinalIgnoreCase) && !d.StartsWith("s-maxage", StringComparison.OrdinalIgnoreCase)));
        return withoutPublic.Length == 0 ? "private" : "private, " + withoutPublic;
    }

    private static string Seconds(TimeSpan age)
    {
        var seconds = (long)Math.Max(0, age.TotalSeconds);
        return seconds < SmallNumbers.Length ? SmallNumbers[seconds] : seconds.ToString(CultureInfo.InvariantCulture);
    }

    private static string[] CreateSmallNumbers(int count)
    {
        var numbers = new string[count];
        for (var i = 0; i < count; i++)
        {
            numbers[i] = i.ToString(CultureInfo.InvariantCulture);
        }

        return numbers;
    }
}
