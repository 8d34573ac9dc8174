namespace TagGateway.Forwarding.Pipelines;

/// <summary>
/// The upstream's bytes were not a response we can relay unambiguously (or stopped before one was complete): the
/// connection is closed and never reused, and the visitor gets a 502 (or an aborted connection once the head is out).
/// </summary>
internal sealed class UpstreamProtocolException : IOException
{
    public UpstreamProtocolException(string message)
        : base(message)
    {
    }

    public UpstreamProtocolException()
    {
    }

    public UpstreamProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The upstream closed before sending a byte: on a reused connection, the keep-alive race a retry may cover.</summary>
    public bool NothingReceived { get; init; }
}
