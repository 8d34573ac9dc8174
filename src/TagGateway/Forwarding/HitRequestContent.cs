using TagGateway.Hits;

namespace TagGateway.Forwarding;

/// <summary>A hit's body as upstream content: built here so the hit model does not depend on the forwarder's types.</summary>
internal static class HitRequestContent
{
    /// <summary>The body as upstream content, or null when the request had none; the buffer stays the hit's.</summary>
    public static RequestBodyContent? CreateContent(this HitRequest hit)
    {
        var (buffer, length) = hit.BodyBuffer;
        return buffer is null ? null : RequestBodyContent.Borrowed(buffer, length);
    }
}
