namespace TagGateway.Forwarding;

/// <summary>How forwarding one request ended; mapped to a status in one place.</summary>
internal enum ForwarderError
{
    None,

    /// <summary>The client's body exceeded the limit (413).</summary>
    RequestBodyTooLarge,

    /// <summary>The client's body could not be read (a bad chunk, a short body): 400.</summary>
    RequestBodyInvalid,

    /// <summary>The client went away: nothing to answer.</summary>
    ClientAborted,

    /// <summary>No connection, a reset, or an invalid response from the upstream (502).</summary>
    UpstreamUnavailable,

    /// <summary>No response headers within the response timeout (504).</summary>
    UpstreamTimeout,

    /// <summary>The upstream failed after the response had started: the client's connection is aborted.</summary>
    ResponseBodyFailed,
}

internal static class ForwarderErrors
{
    public static int ToStatusCode(ForwarderError error) => error switch
    {
        ForwarderError.RequestBodyTooLarge => StatusCodes.Status413PayloadTooLarge,
        ForwarderError.RequestBodyInvalid => StatusCodes.Status400BadRequest,
        ForwarderError.UpstreamTimeout => StatusCodes.Status504GatewayTimeout,
        ForwarderError.UpstreamUnavailable => StatusCodes.Status502BadGateway,
        _ => StatusCodes.Status502BadGateway,
    };
}
