namespace TagGateway.Forwarding.Pipelines;

/// <summary>How the response body is delimited (RFC 9112 6.3).</summary>
internal enum BodyFraming
{
    /// <summary>No body: a HEAD request, a 1xx, 204 or 304.</summary>
    None,

    ContentLength,

    Chunked,

    /// <summary>Neither header: the body runs until the upstream closes (the connection is not reused).</summary>
    UntilClose,
}

/// <summary>A parsed response head; the relayed headers are in the list the parser was given.</summary>
internal readonly record struct ResponseHead(int StatusCode, BodyFraming Framing, long ContentLength, bool KeepAlive);
