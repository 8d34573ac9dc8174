using TagGateway.ClientIdentity;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;
using TagGateway.Consent.Wire;

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

    /// <summary>Why the gateway wrote each of its own Set-Cookie headers (the last <see cref="IssuedCookieCount"/> of the response), for the live view.</summary>
    public Cookies.Issuing.IssuedCookieActions IssuedCookies;

    /// <summary>How many Set-Cookie headers the gateway appended after the upstream's own.</summary>
    public int IssuedCookieCount { get; set; }

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

    /// <summary>The body as it goes upstream (empty for none); the buffer stays this hit's.</summary>
    public ReadOnlyMemory<byte> BodyMemory => _body.AsMemory(0, _bodyLength);

    /// <summary>
    /// Removes user-provided data (<c>em=…</c>) from every body line whose own decision (the URL's signals with the
    /// line's overrides) does not allow attaching user data for Google Ads. Returns how many lines lost it.
    /// </summary>
    public int StripBodyUserData(IConsentPolicy policy)
    {
        if (_body is not { } body || body.AsSpan(0, _bodyLength).IndexOf("em="u8) < 0)
        {
            return 0;
        }

        var source = body.AsSpan(0, _bodyLength);
        var output = System.Buffers.ArrayPool<byte>.Shared.Rent(_bodyLength);
        var written = 0;
        var stripped = 0;
        while (!source.IsEmpty)
        {
            var newline = source.IndexOf((byte)'\n');
            var line = newline < 0 ? source : source[..(newline + 1)];
            source = newline < 0 ? [] : source[(newline + 1)..];
            if (HasPair(line, "em") && !policy.Decide(UrlSignals.WithOverrides(line), Client.CountryRegion).For(ConsentDestination.GoogleAds).MayAttachUserData)
            {
                written += CopyWithout(line, "em", output.AsSpan(written));
                stripped++;
            }
            else
            {
                line.CopyTo(output.AsSpan(written));
                written += line.Length;
            }
        }

        if (stripped == 0)
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(output);
            return 0;
        }

        System.Buffers.ArrayPool<byte>.Shared.Return(body);
        SetBody(output, written);
        return stripped;
    }

    private static bool HasPair(ReadOnlySpan<byte> line, string name) => QueryPairs.TryGetFirstRawValue(line, name, out _);

    /// <summary>Copies a line (its line break included) without the pairs named <paramref name="name"/>.</summary>
    private static int CopyWithout(ReadOnlySpan<byte> line, string name, Span<byte> destination)
    {
        var end = line.Length;
        while (end > 0 && line[end - 1] is (byte)'\r' or (byte)'\n')
        {
            end--;
        }

        var written = 0;
        foreach (var pair in new QueryPairs<byte>(line[..end]))
        {
            if (pair.NameIs(name))
            {
                continue;
            }

            if (written > 0)
            {
                destination[written++] = (byte)'&';
            }

            pair.Pair.CopyTo(destination[written..]);
            written += pair.Pair.Length;
        }

        line[end..].CopyTo(destination[written..]);
        return written + (line.Length - end);
    }

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
