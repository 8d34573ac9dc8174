using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using TagGateway.Tests.Infrastructure;
using Xunit.Abstractions;

namespace TagGateway.Tests.Hostile;

/// <summary>
/// The hostile-input campaign of issue #17 kept as a suite: several hundred raw-socket requests against the real
/// host on 127.0.0.1, with a recording fake upstream. Asserted: the host stays alive, no 5xx, nothing hostile
/// reaches the upstream (what is legal and forwarded carries the peer's IP, never a spoofed one), and no hostile
/// input comes back in a response. The counts go to the test output; the README's security section quotes them.
/// </summary>
public sealed partial class HostileSuiteTests(ITestOutputHelper output)
{
    private const string Secret = "0123456789abcdef-worker-secret";
    private const string WrongSecret = "0123456789abcdef-wrong-secret!";
    private const string UpstreamHost = "g-test1234.fps.goog";
    private static readonly string[] EdgeHeaderPrefixes = ["X-TagGateway-", "CF-", "X-Gclb-", "X-Forwarded-Host", "X-Forwarded-Proto", "X-Forwarded-Country", "X-Forwarded-Region", "X-Real-IP", "True-Client-IP", "Forwarded", "X-Client-IP", "Client-IP"];

    public static TheoryData<string> Setups => new() { "worker-untrusted-peer", "reverse-proxy-untrusted-peer", "worker-trusted-peer-wrong-secret" };

    [Theory]
    [MemberData(nameof(Setups))]
    public async Task Hostile_requests_crash_nothing_leak_nothing_and_reflect_nothing(string setup)
    {
        var (settings, secret, subset, cookieDomains) = Configure(setup);
        var cases = HostileCases.All(secret).Where(c => subset is null || subset.Contains(c.Class)).ToList();
        var report = await RunAsync(settings, cases, cookieDomains);

        output.WriteLine($"setup {setup}: {report.Summary}");
        foreach (var line in report.ByClass)
        {
            output.WriteLine(line);
        }

        Assert.True(setup != "worker-untrusted-peer" || cases.Count >= 500, $"only {cases.Count} cases");
        Assert.True(report.Alive, "the host stopped answering /metrics/healthy, /healthz or a plain hit after the campaign");
        Assert.True(report.Violations.IsEmpty, string.Join("\n", report.Violations.Take(60)));
    }

    /// <summary>
    /// Repeated, case-variant (<c>ID=</c>), percent-encoded (<c>%69d=</c>) and bracketed
    /// (<c>id[]=</c>) ID parameters on script loads (issue #17.3) are refused before any fetch.
    /// </summary>
    [Fact]
    public async Task Script_loads_with_a_smuggled_second_ID_are_refused_and_never_fetched()
    {
        var (settings, _, _, cookieDomains) = Configure("worker-untrusted-peer");
        var report = await RunAsync(settings, HostileCases.NeedsScripts().ToList(), cookieDomains);

        output.WriteLine(report.Summary);
        Assert.True(report.Violations.IsEmpty, string.Join("\n", report.Violations.Take(60)));
    }

    private static (Dictionary<string, string?> Settings, string Secret, string[]? Subset, string[] CookieDomains) Configure(string setup)
    {
        var settings = GatewayInstance.Settings(new Uri("http://127.0.0.1:1"));
        string[] edgeClasses = ["host", "spoofed-edge", "pipelining", "crlf"];
        switch (setup)
        {
            case "worker-untrusted-peer":
                settings["Gateway:ClientIdentity:Edge"] = "CloudflareWorker";
                settings["Gateway:ClientIdentity:EdgeSecret"] = Secret;
                settings["Gateway:ClientIdentity:TrustedProxies:0"] = "203.0.113.0/24";
                settings["Gateway:SiteHosts:0"] = HostileCases.SiteHost;

                // An untrusted peer that even knows the secret is still not the edge.
                return (settings, Secret, null, [HostileCases.SiteHost]);
            case "reverse-proxy-untrusted-peer":
                settings["Gateway:ClientIdentity:Edge"] = "ReverseProxy";
                settings["Gateway:ClientIdentity:TrustedProxies:0"] = "203.0.113.0/24";
                return (settings, Secret, edgeClasses, []);
            default:
                // Loopback is trusted here, but the secret presented is wrong.
                settings["Gateway:ClientIdentity:Edge"] = "CloudflareWorker";
                settings["Gateway:ClientIdentity:EdgeSecret"] = Secret;
                return (settings, WrongSecret, edgeClasses, []);
        }
    }

    private sealed record Report(bool Alive, ConcurrentQueue<string> Violations, string Summary, IReadOnlyList<string> ByClass);

    private static async Task<Report> RunAsync(Dictionary<string, string?> settings, List<HostileCase> cases, string[] cookieDomains)
    {
        await using var upstream = await FakeUpstream.StartAsync();
        foreach (var key in new[] { "Gateway:Upstreams:TagGatewayOrigin", "Gateway:Upstreams:TagManager", "Gateway:Upstreams:Analytics", "Gateway:Upstreams:Ads" })
        {
            settings[key] = upstream.Origin.GetLeftPart(UriPartial.Authority);
        }

        await using var gateway = await GatewayInstance.StartAsync(settings);
        var exchanges = new ConcurrentDictionary<int, RawExchange>();
        await Parallel.ForEachAsync(cases, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (c, _) =>
            exchanges[c.Id] = await RawHttp.SendAsync(gateway.PublicEndPoint, c.Request, c.Responses));

        var violations = new ConcurrentQueue<string>();
        var byId = cases.ToDictionary(c => c.Id);
        var forwarded = new Dictionary<int, int>();
        foreach (var seen in upstream.Requests)
        {
            var ids = Attribute(seen);
            if (ids.Count == 0)
            {
                violations.Enqueue($"leaked: an upstream request no case accounts for: {seen.Method} {seen.PathAndQuery}");
            }

            foreach (var id in ids)
            {
                forwarded[id] = forwarded.GetValueOrDefault(id) + 1;
                if (!byId.TryGetValue(id, out var c))
                {
                    continue;
                }

                if (c.Expect == Expect.Refused)
                {
                    violations.Enqueue($"leaked: {c} reached the upstream as {seen.Method} {seen.PathAndQuery}");
                    continue;
                }

                foreach (var problem in Unsanitised(c, seen))
                {
                    violations.Enqueue($"leaked: {c} reached the upstream {problem}");
                }
            }
        }

        var outcomes = new Dictionary<(string Class, string Outcome), int>();
        var fiveXx = 0;
        var reflected = 0;
        foreach (var c in cases)
        {
            var exchange = exchanges[c.Id];
            var outcome = forwarded.ContainsKey(c.Id) ? "forwarded" : exchange.Responses.Count == 0 ? "closed" : exchange.Responses[0].Status == 505 ? "505" : $"{exchange.Responses[0].Status / 100}xx";
            outcomes[(c.Class, outcome)] = outcomes.GetValueOrDefault((c.Class, outcome)) + 1;

            // Kestrel's own answer to a version it does not speak is 505 (RFC 9110 15.6.6), before any of our code runs:
            // a refusal of the client's request, counted as one, and only in the version class.
            foreach (var response in exchange.Responses.Where(r => r.Status >= 500 && !(r.Status == 505 && c.Class == "version")))
            {
                fiveXx++;
                violations.Enqueue($"5xx: {c} answered {response.StatusLine}");
            }

            if (c.Expect == Expect.Refused && exchange.Responses.FirstOrDefault(r => r.Status is < 400 or > 505 || (r.Status >= 500 && c.Class != "version")) is { } accepted)
            {
                violations.Enqueue($"not refused: {c} answered {accepted.StatusLine}");
            }

            foreach (var problem in Reflections(c, exchange, cookieDomains))
            {
                reflected++;
                violations.Enqueue($"reflected: {c} {problem}");
            }

            if (c.Class == "spoofed-edge" && (exchange.FirstStatus != 204 || !forwarded.ContainsKey(c.Id)))
            {
                violations.Enqueue($"not forwarded: {c} is legal and should have been forwarded with the peer's IP (answered {exchange.FirstStatus?.ToString(CultureInfo.InvariantCulture) ?? "nothing"})");
            }
        }

        var alive = await IsAliveAsync(gateway, upstream);
        var leaked = violations.Count(v => v.StartsWith("leaked:", StringComparison.Ordinal));
        var timedOut = cases.Count(c => exchanges[c.Id].TimedOut);
        var summary = string.Create(CultureInfo.InvariantCulture,
            $"tried {cases.Count} (raw requests {cases.Sum(c => c.Responses)}), refused {outcomes.Where(o => o.Key.Outcome is "4xx" or "505" or "closed").Sum(o => o.Value)}, forwarded sanitised {outcomes.Where(o => o.Key.Outcome == "forwarded").Sum(o => o.Value)}, other {outcomes.Where(o => o.Key.Outcome is "2xx" or "3xx").Sum(o => o.Value)}; leaked {leaked}, reflected {reflected}, 5xx {fiveXx}, idle timeouts {timedOut}, alive {alive}");
        var byClass = outcomes.GroupBy(o => o.Key.Class).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => $"  {g.Key,-20} {g.Sum(o => o.Value),4}: " + string.Join(", ", g.OrderBy(o => o.Key.Outcome, StringComparer.Ordinal).Select(o => $"{o.Key.Outcome} {o.Value}")))
            .ToList();
        return new Report(alive, violations, summary, byClass);
    }

    /// <summary>Which cases an upstream request belongs to: its <c>tgcase=</c> and any marker anywhere in it.</summary>
    private static HashSet<int> Attribute(RecordedRequest seen)
    {
        var text = new StringBuilder(seen.PathAndQuery).Append('\n');
        foreach (var (name, values) in seen.Headers)
        {
            text.Append(name).Append(": ").AppendJoin(", ", values).Append('\n');
        }

        text.Append(Encoding.Latin1.GetString(seen.Body));
        var ids = new HashSet<int>();
        foreach (Match match in CaseReference().Matches(text.ToString()))
        {
            ids.Add(int.Parse(match.Groups[1].Success ? match.Groups[1].Value : match.Groups[2].Value, CultureInfo.InvariantCulture));
        }

        return ids;
    }

    /// <summary>What a tolerated request must not carry upstream: the marker, a spoofed address, an edge header, the visitor's Host.</summary>
    private static IEnumerable<string> Unsanitised(HostileCase c, RecordedRequest seen)
    {
        if (!c.MarkerMayReachUpstream)
        {
            if (seen.PathAndQuery.Contains(c.Marker, StringComparison.OrdinalIgnoreCase) || Encoding.Latin1.GetString(seen.Body).Contains(c.Marker, StringComparison.OrdinalIgnoreCase))
            {
                yield return "with the marker in its target or body";
            }

            foreach (var (name, values) in seen.Headers)
            {
                if (name.Contains(c.Marker, StringComparison.OrdinalIgnoreCase) || values.Any(v => v.Contains(c.Marker, StringComparison.OrdinalIgnoreCase)))
                {
                    yield return $"with the marker in {name}";
                }
            }
        }

        foreach (var (name, values) in seen.Headers)
        {
            if (values.Any(v => v.Contains("198.18.", StringComparison.Ordinal)))
            {
                yield return $"with a spoofed address in {name}: {string.Join(", ", values)}";
            }

            if (EdgeHeaderPrefixes.Any(p => name.StartsWith(p, StringComparison.OrdinalIgnoreCase)))
            {
                yield return $"with the edge header {name}: {string.Join(", ", values)}";
            }
        }

        if (seen.Header("X-Forwarded-For") is { } xff && xff != "127.0.0.1")
        {
            yield return $"with X-Forwarded-For {xff} instead of the peer 127.0.0.1";
        }

        if (seen.Host != UpstreamHost)
        {
            yield return $"with Host {seen.Host}";
        }
    }

    /// <summary>Anything of the input in a response: the marker or a spoofed address anywhere, a cookie domain not the site's, Secure over plain HTTP.</summary>
    private static IEnumerable<string> Reflections(HostileCase c, RawExchange exchange, string[] cookieDomains)
    {
        // An identifier cookie the browser sent is re-issued value unchanged (that is the feature): its name=value is the
        // browser's own, not a reflection. Only what follows it (the attributes) is held to the rule.
        var sent = SentCookies(c);
        var raw = Encoding.Latin1.GetString(exchange.Raw);
        foreach (var setCookie in exchange.Responses.SelectMany(r => r.Values("Set-Cookie")))
        {
            var pair = setCookie.Split(';')[0].Trim();
            if (sent.Contains(pair))
            {
                raw = raw.Replace(pair + ";", "<re-issued>;", StringComparison.Ordinal);
            }
        }

        if (raw.Contains(c.Marker, StringComparison.OrdinalIgnoreCase))
        {
            yield return "the marker came back: " + raw[..Math.Min(raw.Length, 400)].ReplaceLineEndings(" | ");
        }

        if (raw.Contains("198.18.", StringComparison.Ordinal))
        {
            yield return "a spoofed address came back";
        }

        foreach (var setCookie in exchange.Responses.SelectMany(r => r.Values("Set-Cookie")))
        {
            var attributes = setCookie.Split(';', StringSplitOptions.TrimEntries);
            if (attributes.FirstOrDefault(a => a.StartsWith("Domain=", StringComparison.OrdinalIgnoreCase)) is { } domain && !cookieDomains.Contains(domain[7..], StringComparer.OrdinalIgnoreCase))
            {
                yield return $"cookie domain from the request: {setCookie}";
            }

            if (attributes.Contains("Secure", StringComparer.OrdinalIgnoreCase))
            {
                yield return $"Secure cookie over plain HTTP from a spoofed scheme: {setCookie}";
            }
        }
    }

    private static HashSet<string> SentCookies(HostileCase c)
    {
        var text = Encoding.Latin1.GetString(c.Request);
        var pairs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in text.Split("\r\n").Where(l => l.StartsWith("Cookie:", StringComparison.OrdinalIgnoreCase)))
        {
            foreach (var pair in line[7..].Split(';'))
            {
                pairs.Add(pair.Trim());
            }
        }

        return pairs;
    }

    private static async Task<bool> IsAliveAsync(GatewayInstance gateway, FakeUpstream upstream)
    {
        using var health = await gateway.Public.GetAsync("/metrics/healthy");
        using var healthz = await gateway.Management.GetAsync("/healthz");
        var before = upstream.Count;
        using var hit = await gateway.Public.GetAsync("/metrics/g/collect?v=2&tid=G-TEST1234&en=page_view");
        return health.IsSuccessStatusCode && await health.Content.ReadAsStringAsync() == "ok"
            && healthz.IsSuccessStatusCode && hit.IsSuccessStatusCode && upstream.Count == before + 1;
    }

    [GeneratedRegex(@"tgcase=(\d+)|tgevil(\d+)x", RegexOptions.IgnoreCase)]
    private static partial Regex CaseReference();
}
