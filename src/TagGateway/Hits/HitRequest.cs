using TagGateway.ClientIdentity;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;
using TagGateway.Forwarding;

namespace TagGateway.Hits;

/// <summary>
/// One hit under the measurement path, parsed once by the request handler: every later step (forwarder, cookie
/// issuer, consent audit, CAPI sink) reads this instead of walking the query, the cookies or <c>Sec-GPC</c> again.
/// </summary>
internal sealed class HitRequest : IDisposable
{
    private byte[]? _body;
    private int _bodyLength;

    public HitRequest(in HitFacts facts, string query, ClientInfo client, bool globalPrivacyControl, ConsentSignals urlSignals, ConsentDecision consent)
    {
        Facts = facts;
        Query = query;
        Client = client;
        GlobalPrivacyControl = globalPrivacyControl;
        UrlSignals = urlSignals;
        Consent = consent;
    }

    /// <summary>What the query says: kind, destination, client and event, as ranges into <see cref="Query"/>.</summary>
    public HitFacts Facts { get; }

    public HitKind Kind => Facts.Kind;

    /// <summary>The raw query without '?', exactly as the browser sent it.</summary>
    public string Query { get; }

    public ClientInfo Client { get; }

    public bool GlobalPrivacyControl { get; }

    /// <summary>The consent signals of the URL (a batched body line overrides them for its own event).</summary>
    public ConsentSignals UrlSignals { get; }

    /// <summary>The request-level decision (URL signals, else the region's default): governs this response's cookies.</summary>
    public ConsentDecision Consent { get; }


    public ReadOnlySpan<char> DestinationId => Query.AsSpan(Facts.DestinationId);

    public ReadOnlySpan<char> ClientId => Query.AsSpan(Facts.ClientId);

    public ReadOnlySpan<char> EventName => Query.AsSpan(Facts.EventName);

    public ReadOnlySpan<char> PageUrl => Query.AsSpan(Facts.PageUrl);

    /// <summary>The body, read whole before anything went upstream (so its lines were checked too); empty for none.</summary>
    public ReadOnlySpan<byte> BodyBytes => _body.AsSpan(0, _bodyLength);

    /// <summary>Takes ownership of a pooled body buffer (returned on <see cref="Dispose"/>).</summary>
    public void SetBody(byte[] pooled, int length)
    {
        _body = pooled;
        _bodyLength = length;
    }

    /// <summary>The body as upstream content, or null when the request had none; the buffer stays this hit's.</summary>
    public RequestBodyContent? CreateContent() => _body is null ? null : RequestBodyContent.Borrowed(_body, _bodyLength);

    public void Dispose()
    {
        if (_body is { } body)
        {
            _body = null;
            _bodyLength = 0;
            System.Buffers.ArrayPool<byte>.Shared.Return(body);
        }
    }
}
