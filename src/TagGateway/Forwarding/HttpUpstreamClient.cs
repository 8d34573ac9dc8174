using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Primitives;

namespace TagGateway.Forwarding;

/// <summary>
/// The fallback client: one long-lived <see cref="HttpMessageInvoker"/> over <see cref="SocketsHttpHandler"/>
/// (<see cref="UpstreamClients.Hits"/>), HTTP/2 where the upstream offers it.
/// </summary>
internal sealed class HttpUpstreamClient : IHitUpstreamClient
{
    // The target was checked byte by byte before it was built (RequestTarget): Uri need not canonicalise it again,
    // and must not, since the query goes to Google exactly as the browser sent it.
    private static readonly UriCreationOptions RawUri = new() { DangerousDisablePathAndQueryCanonicalization = true };

    private readonly HttpMessageInvoker _invoker;

    public HttpUpstreamClient(UpstreamClients clients)
    {
        ArgumentNullException.ThrowIfNull(clients);
        _invoker = clients.Hits;
    }

    public async ValueTask<IUpstreamResponse> SendAsync(HttpContext context, HitUpstreamRequest request, CancellationToken cancellationToken)
    {
        var incoming = context.Request;
        var content = request.Content;
        if (content is null && !request.Body.IsEmpty)
        {
            content = RequestBodyContent.Borrowed(request.Body);
        }

        using var upstreamRequest = new HttpRequestMessage(ToHttpMethod(incoming.Method), new Uri(request.Target.Url, RawUri))
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrLower,
            Content = content,
        };

        var sink = new MessageSink(upstreamRequest);
        OutboundHeaders.Write(incoming, request, ref sink);
        if (request.Target.Host is not null)
        {
            upstreamRequest.Headers.Host = request.Target.Host;
        }

        var response = await _invoker.SendAsync(upstreamRequest, cancellationToken);
        try
        {
            CopyResponseHeaders(response, context.Response);
            context.Response.StatusCode = (int)response.StatusCode;
            return new Response(response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    internal static void CopyResponseHeaders(HttpResponseMessage upstream, HttpResponse response)
    {
        var headers = response.Headers;
        foreach (var header in upstream.Headers.NonValidated)
        {
            if (!HeaderRules.IsDroppedResponseHeader(header.Key))
            {
                headers[header.Key] = ToStringValues(header.Value);
            }
        }

        foreach (var header in upstream.Content.Headers.NonValidated)
        {
            headers[header.Key] = ToStringValues(header.Value);
        }
    }

    private static StringValues ToStringValues(HeaderStringValues values)
    {
        if (values.Count == 1)
        {
            return values.ToString();
        }

        // Several Set-Cookie headers stay several headers; never joined with commas.
        var array = new string[values.Count];
        var i = 0;
        foreach (var value in values)
        {
            array[i++] = value;
        }

        return array;
    }

    private static HttpMethod ToHttpMethod(string method) => method switch
    {
        _ when HttpMethods.IsGet(method) => HttpMethod.Get,
        _ when HttpMethods.IsPost(method) => HttpMethod.Post,
        _ when HttpMethods.IsHead(method) => HttpMethod.Head,
        _ => new HttpMethod(method),
    };

    private readonly struct MessageSink(HttpRequestMessage message) : IOutboundHeaderSink
    {
        public void Add(string name, StringValues values, bool isContent)
        {
            HttpHeaders headers = isContent ? message.Content!.Headers : message.Headers;
            if (values.Count == 1)
            {
                headers.TryAddWithoutValidation(name, values[0]);
            }
            else
            {
                headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }
    }

    private sealed class Response(HttpResponseMessage message) : IUpstreamResponse
    {
        public async ValueTask CopyBodyToAsync(HttpResponse response, CancellationToken cancellationToken)
        {
            try
            {
                await using var body = await message.Content.ReadAsStreamAsync(cancellationToken);
                await body.CopyToAsync(response.Body, cancellationToken);
            }
            finally
            {
                message.Dispose();
            }
        }

        public ValueTask DisposeAsync()
        {
            message.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
