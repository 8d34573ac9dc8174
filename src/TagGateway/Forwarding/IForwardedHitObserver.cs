using TagGateway.ClientIdentity;

namespace TagGateway.Forwarding;

/// <summary>Learns about a hit after the upstream answered it; must only queue work, never wait for it.</summary>
internal interface IForwardedHitObserver
{
    void OnForwarded(HttpContext context, ClientInfo client, ReadOnlySpan<byte> body);
}
