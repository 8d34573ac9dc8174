using System.Collections.Concurrent;
using System.Collections.Frozen;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Wire;
using TagGateway.Cookies.Configuration;
using TagGateway.Cookies.PublicSuffix;
using TagGateway.Cookies.Rules;

namespace TagGateway.Cookies.Issuing;

/// <summary>
/// Re-issues identifier cookies by HTTP header from the site's own origin, where Safari's caps on script-written
/// cookies do not reach, only as consent allows, and no more often than the refresh interval. Keeps HttpOnly
/// copies of restorable cookies and restores the visible ones after a script-storage wipe; mints the
/// server-managed identifier; turns landing-page click IDs into their platforms' cookies; expires what it set
/// when the visitor withdraws consent.
/// </summary>
/// <remarks>
/// Identifiers are written only on a hit whose consent allows them, and expired only on an explicit update to denied
/// of a consent type that governs them (<see cref="DestinationDecision.IdentifiersWithdrawn"/>). Any other denial (a
/// default, "not set" resolved by the region default, no geolocation at all, GPC) leaves the jar as it is: the first
/// ping of a page is denied by default until the consent platform sends the visitor's stored choice, and Google's own
/// tags delete nothing in that state either.
/// </remarks>
public sealed partial class IdentifierCookieIssuer
{
    private const int MaxCachedHosts = 4096;

    private readonly bool _enabled;
    private readonly string? _fixedDomain;
    private readonly TimeSpan _refreshInterval;
    private readonly string? _serverIdName;
    private readonly string _copyPrefix;
    private readonly string _markerName;
    private readonly IdentifierCookieRule[] _rules;
    private readonly FrozenDictionary<string, IdentifierCookieRule>.AlternateLookup<ReadOnlySpan<char>> _exact;
    private readonly IdentifierCookieRule[] _prefixes;
    private readonly IdentifierCookieRule? _gclAw;
    private readonly IdentifierCookieRule? _fbc;
    private readonly IdentifierCookieRule? _ttclid;
    private readonly PublicSuffixList _suffixes;
    private readonly ConcurrentDictionary<string, string?> _domains = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<IdentifierCookieRule, string> _copyNames = new(ReferenceEqualityComparer.Instance);
    private readonly TimeProvider _time;
    private readonly CookieMetrics _metrics;
    private readonly ILogger<IdentifierCookieIssuer> _logger;

    internal IdentifierCookieIssuer(IOptions<FirstPartyCookieOptions> options, PublicSuffixList suffixes, TimeProvider time, CookieMetrics metrics, ILogger<IdentifierCookieIssuer> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var settings = options.Value;
        _enabled = settings.Enabled;
        _fixedDomain = settings.Domain?.ToLowerInvariant();
        _refreshInterval = settings.RefreshInterval;
        _serverIdName = string.IsNullOrEmpty(settings.ServerIdName) ? null : settings.ServerIdName;
        _copyPrefix = settings.ServerCopyPrefix;
        _markerName = settings.ServerCopyPrefix + "_ts";
        _rules = BuildRules(settings.Identifiers);
        _exact = _rules.Where(static r => !r.IsPrefix).ToFrozenDictionary(static r => r.Name, StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        _prefixes = _rules.Where(static r => r.IsPrefix).ToArray();
        _gclAw = _rules.FirstOrDefault(static r => r.Name == "_gcl_aw");
        _fbc = _rules.FirstOrDefault(static r => r.Name == "_fbc");
        _ttclid = _rules.FirstOrDefault(static r => r.Name == "ttclid");
        _suffixes = suffixes;
        _time = time;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>The rules in force (defaults merged with configuration).</summary>
    public IReadOnlyList<IdentifierCookieRule> Rules => _rules;

    /// <summary>
    /// Adds the Set-Cookie headers this response should carry; returns how many. Call before the response starts.
    /// </summary>
    /// <param name="decision">The hit's consent decision (its URL-level signals, else the region default).</param>
    /// <param name="occasion">
    /// What the response answers. A script load carries no consent signal, so it writes nothing at all: no identifier is
    /// minted, refreshed, restored or expired on one, in any region; the hits that follow decide.
    /// </param>
    /// <param name="siteHost">The host the visitor asked for (Host, or the trusted edge's forwarded host), port allowed.</param>
    /// <param name="isHttps">Whether the visitor's request was HTTPS: the cookies are then Secure.</param>
    /// <param name="pageUrl">The hit's <c>dl</c> value (still percent-encoded as in the query), for click IDs; empty for scripts.</param>
    public int Apply(HttpContext context, in ConsentDecision decision, CookieOccasion occasion, string? siteHost, bool isHttps, ReadOnlySpan<char> pageUrl) =>
        Apply(context, decision, occasion, siteHost, isHttps, pageUrl, []);

    /// <inheritdoc cref="Apply(HttpContext, in ConsentDecision, CookieOccasion, string?, bool, ReadOnlySpan{char})"/>
    /// <param name="actions">Receives why each header was written, in the order they were appended (the live view).</param>
    public int Apply(HttpContext context, in ConsentDecision decision, CookieOccasion occasion, string? siteHost, bool isHttps, ReadOnlySpan<char> pageUrl, Span<IssuedCookieAction> actions)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!_enabled || occasion != CookieOccasion.Hit)
        {
            return 0;
        }

        var header = context.Request.Headers.Cookie.Count == 1 ? context.Request.Headers.Cookie[0].AsSpan() : context.Request.Headers.Cookie.ToString().AsSpan();
        var writer = new SetCookieWriter(context.Response, DomainFor(siteHost), isHttps, actions);
        var now = _time.GetUtcNow();
        var markerFresh = CookiePairs.TryGet(header, _markerName, out var marker)
            && long.TryParse(marker, NumberStyles.None, CultureInfo.InvariantCulture, out var markedAt)
            && now.ToUnixTimeSeconds() - markedAt < (long)_refreshInterval.TotalSeconds;
        var anyAllowed = false;
        var expired = 0;
        var wrote = 0;

        // 1. Cookies the browser sent: refresh, keep copies, or expire on withdrawal.
        foreach (var cookie in CookiePairs.Enumerate(header))
        {
            if (!TryMatch(cookie.Name, out var rule))
            {
                continue;
            }

            var destination = decision.For(rule.Destination);
            anyAllowed |= destination.MayUseIdentifiers;
            if (!destination.MayUseIdentifiers)
            {
                if (destination.IdentifiersWithdrawn)
                {
                    // The visitor said no: what the gateway set for this destination goes, the HttpOnly copy included.
                    expired += writer.Expire(cookie.Name, rule.Name, _metrics);
                    if (rule.KeepServerCopy && CookiePairs.TryGet(header, CopyName(rule), out _))
                    {
                        expired += writer.Expire(CopyName(rule), rule.Name, _metrics);
                    }
                }

                // Any other denial: neither refreshed nor touched.
                continue;
            }

            if (!CookieFormats.IsValid(rule.Format, cookie.Value))
            {
                _metrics.Rejected(rule.Name);
                Log.Rejected(_logger, rule.Name);
                continue;
            }

            if (rule.KeepServerCopy)
            {
                var copyName = CopyName(rule);
                var hasCopy = CookiePairs.TryGet(header, copyName, out var copy) && CookieFormats.IsValid(rule.Format, copy);
                if (hasCopy && !copy.SequenceEqual(cookie.Value) && IsOlder(rule.Format, copy, cookie.Value))
                {
                    // The script minted a new identity after its storage was wiped; the older one the server kept wins.
                    wrote += writer.Set(cookie.Name, copy, rule.MaxAge, httpOnly: false, rule.Name, IssuedCookieAction.Restore, _metrics);
                    if (!markerFresh)
                    {
                        wrote += writer.Set(copyName, copy, rule.MaxAge, httpOnly: true, rule.Name, IssuedCookieAction.Copy, _metrics);
                    }

                    continue;
                }

                if (!hasCopy || !copy.SequenceEqual(cookie.Value) || !markerFresh)
                {
                    wrote += writer.Set(copyName, cookie.Value, rule.MaxAge, httpOnly: true, rule.Name, IssuedCookieAction.Copy, _metrics);
                }
            }

            if (!markerFresh)
            {
                wrote += writer.Set(cookie.Name, cookie.Value, rule.MaxAge, httpOnly: false, rule.Name, IssuedCookieAction.Refresh, _metrics);
            }
        }

        // 2. Restorable cookies the browser lost but whose server copy survived (Safari wipes script storage, not HttpOnly cookies).
        foreach (var rule in _rules)
        {
            if (!rule.KeepServerCopy || CookiePairs.TryGet(header, rule.Name, out _))
            {
                continue;
            }

            var copyName = CopyName(rule);
            if (!CookiePairs.TryGet(header, copyName, out var copy))
            {
                continue;
            }

            var destination = decision.For(rule.Destination);
            if (!destination.MayUseIdentifiers)
            {
                if (destination.IdentifiersWithdrawn)
                {
                    expired += writer.Expire(copyName, rule.Name, _metrics);
                }

                continue;
            }

            anyAllowed = true;
            if (CookieFormats.IsValid(rule.Format, copy))
            {
                wrote += writer.Set(rule.Name, copy, rule.MaxAge, httpOnly: false, rule.Name, IssuedCookieAction.Restore, _metrics);
                if (!markerFresh)
                {
                    wrote += writer.Set(copyName, copy, rule.MaxAge, httpOnly: true, rule.Name, IssuedCookieAction.Copy, _metrics);
                }
            }
        }

        // 3. The server-managed identifier: minted when absent, on a hit whose analytics consent allows it.
        if (_serverIdName is not null)
        {
            var analytics = decision.For(ConsentDestination.GoogleAnalytics);
            var present = CookiePairs.TryGet(header, _serverIdName, out var serverId);
            if (analytics.MayUseIdentifiers)
            {
                anyAllowed = true;
                // Any cookie-octet value is kept: Google's own FPID is percent-encoded base64 (…%3D.<seconds>), and
                // re-minting it would give the visitor a new identity on every hit.
                if (!present || !CookieFormats.IsValid(CookieFormat.Opaque, serverId))
                {
                    // Minting costs a CSPRNG call and a string: skipped when Google's answer already sets the cookie.
                    if (!writer.IsSetUpstream(_serverIdName))
                    {
                        wrote += writer.Set(_serverIdName, MintServerId(now), IdentifierCookieRule.MaxLifetime, httpOnly: true, _serverIdName, IssuedCookieAction.Mint, _metrics);
                    }
                }
                else if (!markerFresh)
                {
                    wrote += writer.Set(_serverIdName, serverId, IdentifierCookieRule.MaxLifetime, httpOnly: true, _serverIdName, IssuedCookieAction.Refresh, _metrics);
                }
            }
            else if (present && analytics.IdentifiersWithdrawn)
            {
                expired += writer.Expire(_serverIdName, _serverIdName, _metrics);
            }
        }

        // 4. Click IDs on the landing page become the platforms' cookies.
        if (!pageUrl.IsEmpty)
        {
            wrote += WriteClickIds(ref writer, decision, header, pageUrl, now);
        }

        // 5. The refresh marker: one HttpOnly timestamp, so steady traffic re-issues nothing for a day.
        if (anyAllowed && (!markerFresh || wrote + expired > 0))
        {
            writer.Set(_markerName, now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), IdentifierCookieRule.MaxLifetime, httpOnly: true, "marker", IssuedCookieAction.Marker, _metrics);
        }
        else if (!anyAllowed && expired > 0 && marker.Length > 0)
        {
            writer.Expire(_markerName, "marker", _metrics);
        }

        return writer.Count;
    }

    /// <summary>"clid" in any case: every click id parameter (gclid, fbclid, ttclid, …) holds it. A vectorised search,
    /// since nearly every hit's page URL has none.</summary>
    private static readonly System.Buffers.SearchValues<string> ClickIdMarker = System.Buffers.SearchValues.Create(["clid"], StringComparison.OrdinalIgnoreCase);

    private int WriteClickIds(ref SetCookieWriter writer, in ConsentDecision decision, ReadOnlySpan<char> header, ReadOnlySpan<char> pageUrl, DateTimeOffset now)
    {
        // dl is the page URL percent-encoded once as a query value; decode only when a click ID is in it.
        if (pageUrl.IndexOfAny(ClickIdMarker) < 0)
        {
            return 0;
        }

        var page = Uri.UnescapeDataString(pageUrl.ToString()).AsSpan();
        var question = page.IndexOf('?');
        if (question < 0)
        {
            return 0;
        }

        var query = page[(question + 1)..];
        var hash = query.IndexOf('#');
        if (hash >= 0)
        {
            query = query[..hash];
        }

        var wrote = 0;
        if (_gclAw is not null && TryParam(query, "gclid", out var gclid) && decision.For(_gclAw.Destination).MayUseIdentifiers)
        {
            if (!CookiePairs.TryGet(header, _gclAw.Name, out var existing) || !LastSegment(existing).SequenceEqual(gclid))
            {
                var value = string.Concat("GCL.", now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), ".", gclid);
                wrote += writer.Set(_gclAw.Name, value, _gclAw.MaxAge, httpOnly: false, _gclAw.Name, IssuedCookieAction.ClickId, _metrics);
            }
        }

        if (_fbc is not null && TryParam(query, "fbclid", out var fbclid) && decision.For(_fbc.Destination).MayUseIdentifiers)
        {
            // Meta: fb.<subdomain index>.<ms>.<fbclid>, index 1 for a cookie on the registrable domain, fbclid byte-exact.
            if (!CookiePairs.TryGet(header, _fbc.Name, out var existing) || !FbclidOf(existing).SequenceEqual(fbclid))
            {
                var value = string.Concat("fb.1.", now.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), ".", fbclid);
                wrote += writer.Set(_fbc.Name, value, _fbc.MaxAge, httpOnly: false, _fbc.Name, IssuedCookieAction.ClickId, _metrics);
            }
        }

        if (_ttclid is not null && TryParam(query, "ttclid", out var ttclid) && decision.For(_ttclid.Destination).MayUseIdentifiers)
        {
            if (!CookiePairs.TryGet(header, _ttclid.Name, out var existing) || !existing.SequenceEqual(ttclid))
            {
                wrote += writer.Set(_ttclid.Name, ttclid, _ttclid.MaxAge, httpOnly: false, _ttclid.Name, IssuedCookieAction.ClickId, _metrics);
            }
        }

        return wrote;
    }

    private static bool IsOlder(CookieFormat format, ReadOnlySpan<char> candidate, ReadOnlySpan<char> than) =>
        CookieFormats.TryGetCreated(format, candidate, out var a) && CookieFormats.TryGetCreated(format, than, out var b) && a < b;

    private static bool TryParam(ReadOnlySpan<char> query, ReadOnlySpan<char> name, out ReadOnlySpan<char> value)
    {
        foreach (var range in query.Split('&'))
        {
            var pair = query[range];
            var eq = pair.IndexOf('=');
            if (eq > 0 && pair[..eq].SequenceEqual(name))
            {
                value = pair[(eq + 1)..];
                return CookieFormats.IsToken(value);
            }
        }

        value = default;
        return false;
    }

    private static ReadOnlySpan<char> LastSegment(ReadOnlySpan<char> value)
    {
        var dot = value.LastIndexOf('.');
        return dot < 0 ? value : value[(dot + 1)..];
    }

    /// <summary>The fbclid of an _fbc value: the fourth segment (a fifth, Meta's parameter-builder suffix, may follow).</summary>
    private static ReadOnlySpan<char> FbclidOf(ReadOnlySpan<char> fbc)
    {
        var index = 0;
        foreach (var range in fbc.Split('.'))
        {
            if (index++ == 3)
            {
                return fbc[range];
            }
        }

        return [];
    }

    private bool TryMatch(ReadOnlySpan<char> name, out IdentifierCookieRule rule)
    {
        if (_exact.TryGetValue(name, out rule!))
        {
            return true;
        }

        foreach (var prefixed in _prefixes)
        {
            if (name.Length > prefixed.Name.Length && name.StartsWith(prefixed.Name, StringComparison.Ordinal))
            {
                rule = prefixed;
                return true;
            }
        }

        rule = null!;
        return false;
    }

    // Built once per rule: every hit of a returning visitor asks for them.
    private string CopyName(IdentifierCookieRule rule) =>
        _copyNames.GetOrAdd(rule, static (r, prefix) => r.Name.StartsWith('_') ? prefix + r.Name : prefix + "_" + r.Name, _copyPrefix);

    private static string MintServerId(DateTimeOffset now)
    {
        Span<byte> random = stackalloc byte[16];
        System.Security.Cryptography.RandomNumberGenerator.Fill(random);
        return string.Concat("FPID2.2.", Convert.ToBase64String(random).TrimEnd('=').Replace('+', '-').Replace('/', '_'), ".", now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>The Domain attribute for a host: configured, or the registrable domain; null means host-only.</summary>
    internal string? DomainFor(string? siteHost)
    {
        if (_fixedDomain is not null || string.IsNullOrEmpty(siteHost))
        {
            return _fixedDomain;
        }

        if (_domains.TryGetValue(siteHost, out var cached))
        {
            return cached;
        }

        var host = HostWithoutPort(siteHost);
        var domain = host is null ? null : _suffixes.RegistrableDomain(host);
        if (_domains.Count < MaxCachedHosts)
        {
            _domains.TryAdd(siteHost, domain);
        }

        return domain;
    }

    private static string? HostWithoutPort(string value)
    {
        var span = value.AsSpan().Trim();
        if (span.StartsWith('['))
        {
            return null;
        }

        var colon = span.IndexOf(':');
        var host = colon < 0 ? span : span[..colon];
        return CookieFormats.IsToken(host) ? host.ToString().ToLowerInvariant() : null;
    }

    private static IdentifierCookieRule[] BuildRules(Dictionary<string, IdentifierCookieOptions> overrides)
    {
        var rules = IdentifierCookieRule.Defaults.ToDictionary(static r => r.Name, StringComparer.Ordinal);
        foreach (var (key, option) in overrides)
        {
            var isPrefix = key.EndsWith('*');
            var name = key.TrimEnd('*');
            rules.TryGetValue(name, out var existing);
            if (option.Enabled == false)
            {
                rules.Remove(name);
                continue;
            }

            rules[name] = new IdentifierCookieRule(
                name,
                existing?.IsPrefix ?? isPrefix,
                option.Destination ?? existing!.Destination,
                option.Format ?? existing?.Format ?? CookieFormat.Opaque,
                option.MaxAge ?? existing?.MaxAge ?? TimeSpan.FromDays(90),
                option.KeepServerCopy ?? existing?.KeepServerCopy ?? false);
        }

        return rules.Values.ToArray();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4000, Level = LogLevel.Debug, Message = "Cookie {Cookie} failed its format check; not echoed")]
        public static partial void Rejected(ILogger logger, string cookie);
    }
}
