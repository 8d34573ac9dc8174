using TagGateway.ClientIdentity;
using TagGateway.Routing;

namespace TagGateway.Forwarding;

/// <summary>
/// The transport half of forwarding: carries one request to its upstream and the answer back. The forwarder owns
/// what is decided (body limits, cookies, metrics, status mapping); a client owns only the wire. Two exist:
/// <see cref="HttpUpstreamClient"/> (SocketsHttpHandler) and <see cref="Pipelines.PipelinesUpstreamClient"/>.
/// </summary>
/// <remarks>
/// Failures are exceptions the forwarder classifies: <see cref="HttpRequestException"/> or <see cref="IOException"/>
/// (502), <see cref="OperationCanceledException"/> of the given token (504 or a client abort).
/// </remarks>
internal interface IHitUpstreamClient
{
    /// <summary>
    /// Sends the request and reads the response head. On return, the response's status and relayed headers are
    /// on <c>context.Response</c> (nothing flushed yet) and the returned response relays the body.
    /// </summary>
    ValueTask<IUpstreamResponse> SendAsync(HttpContext context, HitUpstreamRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// An upstream answer whose head is applied. Either relay its body (which ends the exchange, success or not) or,
/// when the body will not be relayed, dispose it; never both, since a freed connection may already carry another hit.
/// </summary>
internal interface IUpstreamResponse : IAsyncDisposable
{
    /// <summary>Relays the body to the visitor and ends the exchange; throws when the upstream fails mid-body.</summary>
    ValueTask CopyBodyToAsync(HttpResponse response, CancellationToken cancellationToken);
}

/// <summary>What goes upstream for one request, as the hit model and the incoming request already hold it.</summary>
/// <param name="Body">The hit's body (read and checked before anything went upstream); empty for none.</param>
/// <param name="Content">A pass-through's body (streamed or buffered), when there is no hit; null for none.</param>
internal readonly record struct HitUpstreamRequest(UpstreamTarget Target, ClientInfo Client, bool ForwardClientIp, ReadOnlyMemory<byte> Body, RequestBodyContent? Content)
{
    public bool HasBody => Content is not null || !Body.IsEmpty;
}
