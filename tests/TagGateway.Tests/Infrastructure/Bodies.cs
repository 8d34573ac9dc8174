using System.IO.Compression;
using System.Text;

namespace TagGateway.Tests.Infrastructure;

public static class Bodies
{
    /// <summary>A script body big enough that compression matters (a real gtag.js is a few hundred KB).</summary>
    public static string Script(string marker) =>
        $"/* {marker} */\n" + string.Concat(Enumerable.Range(0, 400).Select(i => $"window.dataLayer=window.dataLayer||[];function gtag{i}(){{dataLayer.push(arguments)}}\n"));

    public static async Task<string> ReadDecodedAsync(HttpResponseMessage response)
    {
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var encoding = response.Content.Headers.ContentEncoding.SingleOrDefault();
        Stream source = new MemoryStream(bytes);
        source = encoding switch
        {
            "br" => new BrotliStream(source, CompressionMode.Decompress),
            "gzip" => new GZipStream(source, CompressionMode.Decompress),
            null => source,
            _ => throw new InvalidOperationException($"Unexpected encoding {encoding}"),
        };
        using var reader = new StreamReader(source, Encoding.UTF8);
        return await reader.ReadToEndAsync();
    }
}
