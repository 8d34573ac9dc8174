using System.Buffers;
using TagGateway.Configuration;
using TagGateway.Consent.Wire;
using TagGateway.Hits;
using TagGateway.Routing;

namespace TagGateway.Scripts;

/// <summary>What the parameter set of a script load decided.</summary>
internal enum ScriptLoadVerdict
{
    Ok,

    /// <summary>No <c>id</c> parameter (400).</summary>
    MissingId,

    /// <summary><c>id</c> more than once: which one the upstream would pick is not ours to guess (400).</summary>
    RepeatedId,

    /// <summary>A name that is <c>id</c> only case-insensitively, after percent-decoding, trimmed or with a bracket suffix (400).</summary>
    DisguisedId,

    /// <summary>The value is not a Google tag ID (400).</summary>
    MalformedId,

    /// <summary>A well-formed ID this gateway does not serve (403).</summary>
    UnknownId,

    /// <summary>A parameter the cache keys on (<c>l</c>, <c>cx</c>, <c>gtm</c>, <c>tag_exp</c>) with a value outside its syntax (400).</summary>
    MalformedParameter,
}

/// <summary>How a valid script load is served.</summary>
internal enum ScriptLoadKind
{
    /// <summary>From the cache, keyed on the parameters that change Google's answer.</summary>
    Cacheable,

    /// <summary>Tag Manager preview or Tag Assistant debug: the live container with the visitor's cookies, uncached.</summary>
    Preview,

    /// <summary>
    /// Tag diagnostics (<c>is_td=1</c>): a beacon the loaded tag sends back to its own loader URL, answered 204.
    /// A measurement, not a script: forwarded as it came, never answered from the cache.
    /// </summary>
    Diagnostics,
}

/// <summary>
/// The parameter set of a script load, checked as a whole before anything is fetched or served. Names are compared
/// after percent-decoding, so <c>ID=</c>, <c>%69d=</c>, <c>id[]=</c> or a second <c>id=</c> cannot slip a tag past
/// the check that looked at the first one. The cache key, and the upstream fetch of a cacheable load, hold only the
/// parameters that change Google's answer, in a fixed order; everything else is dropped, so a junk parameter
/// (<c>&amp;cb=N</c>) is a cache hit instead of an upstream fetch and a compression.
/// </summary>
/// <remarks>
/// Parameters Google's loaders put on these URLs, from loader URLs captured on live sites (docs/script-loads.md): <c>id</c>; <c>l</c> (the data layer's name, the GTM snippet adds <c>&amp;l=</c> when it is not
/// <c>dataLayer</c>); <c>cx=c</c> and <c>gtm=&lt;build&gt;</c> on a Google tag or destination loaded by a container
/// (<c>gtag/js?id=G-…&amp;l=dataLayer&amp;cx=c&amp;gtm=45He51d0v9…</c>, <c>gtag/destination?id=AW-…&amp;l=dataLayer&amp;cx=c</c>);
/// <c>tag_exp=&lt;id&gt;~&lt;id&gt;…</c> (experiment arms, seen on <c>gtag/js</c>). Preview adds <c>gtm_auth</c>,
/// <c>gtm_preview</c>, <c>gtm_cookies_win</c>; Tag Assistant <c>gtm_debug</c>. Tag diagnostics send <c>is_td=1</c>
/// with <c>v</c>, <c>t</c>, <c>pid</c>, <c>seq</c>, <c>z</c> to <c>gtm.js</c> and <c>gtag/js</c>.
/// </remarks>
internal readonly struct ScriptLoadQuery
{
    /// <summary>Longest value kept for a keyed parameter; <c>tag_exp</c> lists a dozen 9-digit arms.</summary>
    public const int MaxKeyedValueLength = 256;

    // Keyed parameters, in the order the canonical query lists them (the id always first).
    private const int KeyedCount = 5;

    private static readonly string[] PreviewNames = ["gtm_debug", "gtm_preview", "gtm_auth", "gtm_cookies_win"];

    // What a data layer name, a container build, an experiment list or cx=c is made of; anything else is not Google's.
    private static readonly SearchValues<char> KeyedValueChars = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-$");

    private readonly Range _id;
    private readonly Range _l;
    private readonly Range _cx;
    private readonly Range _gtm;
    private readonly Range _tagExp;

    private ScriptLoadQuery(ScriptLoadKind kind, Range id, Range l, Range cx, Range gtm, Range tagExp, Range refused)
    {
        Kind = kind;
        _id = id;
        _l = l;
        _cx = cx;
        _gtm = gtm;
        _tagExp = tagExp;
        Refused = refused;
    }

    public ScriptLoadKind Kind { get; }

    /// <summary>Where, in the query, the value that decided a refusal is (the ID that was refused); empty otherwise.</summary>
    public Range Refused { get; }

    /// <summary>The ID this load names (the value of its one <c>id</c> parameter).</summary>
    public ReadOnlySpan<char> Id(ReadOnlySpan<char> query) => Value(query, _id);

    /// <summary>Length of <see cref="WriteCanonical"/>'s output.</summary>
    public int CanonicalLength(ReadOnlySpan<char> query)
    {
        var length = -1;
        for (var i = 0; i < KeyedCount; i++)
        {
            var pair = Pair(i);
            if (!pair.Equals(default))
            {
                length += 1 + pair.GetOffsetAndLength(query.Length).Length;
            }
        }

        return Math.Max(length, 0);
    }

    /// <summary>
    /// The keyed parameters as <c>name=value</c> pairs joined by <c>&amp;</c>, always in the order
    /// <c>id, l, cx, gtm, tag_exp</c>, so a reordered query is the same key. Values are written as they came: only
    /// unreserved characters passed the check, so there is nothing to normalise.
    /// </summary>
    public int WriteCanonical(ReadOnlySpan<char> query, Span<char> destination)
    {
        var at = 0;
        for (var i = 0; i < KeyedCount; i++)
        {
            var pair = Pair(i);
            if (pair.Equals(default))
            {
                continue;
            }

            if (at > 0)
            {
                destination[at++] = '&';
            }

            var span = query[pair];
            span.CopyTo(destination[at..]);
            at += span.Length;
        }

        return at;
    }

    private Range Pair(int index) => index switch
    {
        0 => _id,
        1 => _l,
        2 => _cx,
        3 => _gtm,
        _ => _tagExp,
    };

    private static ReadOnlySpan<char> Value(ReadOnlySpan<char> query, Range pair)
    {
        var span = query[pair];
        var eq = span.IndexOf('=');
        return eq < 0 ? [] : span[(eq + 1)..];
    }

    /// <summary>
    /// Checks the whole parameter set of a script load (the raw query, still encoded). Allocates nothing; a name
    /// needing decoding is decoded on the stack (or a pooled buffer when very long).
    /// </summary>
    public static ScriptLoadVerdict Validate(ReadOnlySpan<char> query, TagRegistry tags, out ScriptLoadQuery load)
    {
        ArgumentNullException.ThrowIfNull(tags);
        Span<Range> keyed = stackalloc Range[KeyedCount];
        keyed.Clear();
        Range idValue = default;
        var kind = ScriptLoadKind.Cacheable;
        var pairs = new QueryPairs<char>(query);
        while (pairs.MoveNext())
        {
            // The pair's place in the query: the cache key and the fetch are cut from these ranges.
            query.Overlaps(pairs.Pair, out var offset);
            if (RequestTarget.FollowsSecondQuestionMark(query, offset))
            {
                continue;
            }

            var length = pairs.Pair.Length;
            var range = new Range(offset, offset + length);
            var name = pairs.Name;
            var value = pairs.Value;
            var valueRange = new Range(offset + (pairs.HasValue ? name.Length + 1 : length), offset + length);

            if (name is "id")
            {
                if (!keyed[0].Equals(default))
                {
                    return Refuse(ScriptLoadVerdict.RepeatedId, valueRange, out load);
                }

                keyed[0] = range;
                idValue = valueRange;
                continue;
            }

            if (IsIdInDisguise(name))
            {
                return Refuse(ScriptLoadVerdict.DisguisedId, valueRange, out load);
            }

            var slot = KeyedSlot(name);
            if (slot < 0)
            {
                if (IsPreview(name))
                {
                    kind = ScriptLoadKind.Preview;
                }
                else if (name is "is_td" && kind == ScriptLoadKind.Cacheable)
                {
                    kind = ScriptLoadKind.Diagnostics;
                }

                // Anything else changes nothing Google answers: dropped from the key and from the fetch.
                continue;
            }

            if (value.IsEmpty || value.Length > MaxKeyedValueLength || value.ContainsAnyExcept(KeyedValueChars))
            {
                return Refuse(ScriptLoadVerdict.MalformedParameter, default, out load);
            }

            // A repeated keyed parameter: the first one counts, and only it is sent upstream, so key and fetch agree.
            if (keyed[slot].Equals(default))
            {
                keyed[slot] = range;
            }
        }

        if (keyed[0].Equals(default))
        {
            return Refuse(ScriptLoadVerdict.MissingId, default, out load);
        }

        var id = query[idValue];
        if (!TagId.IsValid(id))
        {
            return Refuse(ScriptLoadVerdict.MalformedId, idValue, out load);
        }

        if (!tags.IsServable(id))
        {
            return Refuse(ScriptLoadVerdict.UnknownId, idValue, out load);
        }

        load = new ScriptLoadQuery(kind, keyed[0], keyed[1], keyed[2], keyed[3], keyed[4], default);
        return ScriptLoadVerdict.Ok;
    }

    private static int KeyedSlot(ReadOnlySpan<char> name) => name switch
    {
        "l" => 1,
        "cx" => 2,
        "gtm" => 3,
        "tag_exp" => 4,
        _ => -1,
    };

    private static ScriptLoadVerdict Refuse(ScriptLoadVerdict verdict, Range refused, out ScriptLoadQuery load)
    {
        load = new ScriptLoadQuery(ScriptLoadKind.Cacheable, default, default, default, default, default, refused);
        return verdict;
    }

    private static bool IsPreview(ReadOnlySpan<char> name)
    {
        foreach (var preview in PreviewNames)
        {
            if (name.SequenceEqual(preview))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A name a lenient decoder would read as <c>id</c> though it is not <c>id</c> verbatim (<see cref="WireNames"/>).</summary>
    internal static bool IsIdInDisguise(ReadOnlySpan<char> name) => WireNames.IsDisguised(name, "id");
}
