using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace TagGateway.Cookies.Issuing;

/// <summary>Appends Set-Cookie headers with the gateway's attributes; never overrides a cookie the upstream set itself.</summary>
internal ref struct SetCookieWriter(HttpResponse response, string? domain, bool secure, Span<IssuedCookieAction> actions = default)
{
    private static readonly string[] ActionNames = ["none", "mint", "refresh", "copy", "restore", "click_id", "expire", "marker"];

    private readonly HttpResponse _response = response;
    private readonly string? _domain = domain;
    private readonly bool _secure = secure;

    // Where the caller wants each header's action, in order (the live view); headers beyond its length are not noted.
    private readonly Span<IssuedCookieAction> _actions = actions;

    public int Count { get; private set; }

    public int Set(ReadOnlySpan<char> name, ReadOnlySpan<char> value, TimeSpan maxAge, bool httpOnly, string rule, IssuedCookieAction action, CookieMetrics metrics)
    {
        if (IsSetUpstream(name))
        {
            return 0;
        }

        // One string per header, formatted in place (no intermediate Max-Age string).
        var seconds = (long)maxAge.TotalSeconds;
        var header = _domain is null
            ? string.Create(CultureInfo.InvariantCulture, $"{name}={value}; Path=/; Max-Age={seconds}{(_secure ? "; Secure" : string.Empty)}{(httpOnly ? "; HttpOnly" : string.Empty)}; SameSite=Lax")
            : string.Create(CultureInfo.InvariantCulture, $"{name}={value}; Domain={_domain}; Path=/; Max-Age={seconds}{(_secure ? "; Secure" : string.Empty)}{(httpOnly ? "; HttpOnly" : string.Empty)}; SameSite=Lax");
        _response.Headers.Append("Set-Cookie", header);
        metrics.Written(rule, ActionNames[(int)action]);
        Note(action);
        Count++;
        return 1;
    }

    public int Expire(ReadOnlySpan<char> name, string rule, CookieMetrics metrics)
    {
        if (IsSetUpstream(name))
        {
            return 0;
        }

        var header = _domain is null
            ? $"{name}=; Path=/; Max-Age=0; SameSite=Lax"
            : $"{name}=; Domain={_domain}; Path=/; Max-Age=0; SameSite=Lax";
        _response.Headers.Append("Set-Cookie", header);
        metrics.Written(rule, "expire");
        Note(IssuedCookieAction.Expire);
        Count++;
        return 1;
    }

    private readonly void Note(IssuedCookieAction action)
    {
        if (Count < _actions.Length)
        {
            _actions[Count] = action;
        }
    }

    /// <summary>Whether the upstream's own answer (relayed before the gateway's cookies) sets <paramref name="name"/>.</summary>
    public readonly bool IsSetUpstream(ReadOnlySpan<char> name)
    {
        // Only cookies already on the response before the gateway's own were added (Google's, relayed) count.
        var existing = _response.Headers.SetCookie;
        for (var i = 0; i < existing.Count - Count; i++)
        {
            var value = existing[i].AsSpan();
            if (value.Length > name.Length && value.StartsWith(name, StringComparison.Ordinal) && value[name.Length] == '=')
            {
                return true;
            }
        }

        return false;
    }
}
