using System.Diagnostics.Metrics;
using TagGateway.Capi.Model;
using TagGateway.Capi.Observability;

namespace TagGateway.Capi.Quality;

/// <summary>
/// Per destination: the share of delivered events carrying each identity key, and an estimated match-quality score
/// modelled on Meta's Event Match Quality (conversion-apis.md §1.6).
/// <para>
/// Formula: each delivered event scores <c>min(10, Σ weight(key) for the keys it carried)</c>, and the destination's
/// score is the mean over its delivered events. Weights follow Meta's priorities: high (email 4, click id fbc/ttclid/
/// gclid 3), medium (phone 2, external id 1.5, browser id fbp/ttp/li_fat_id 1.5, IP 1, user agent 1, date of birth
/// 0.5, country 0.5) and low (first name, last name, city, state, zip, gender 0.25 each). Email + click id + phone +
/// IP + user agent reaches 10; IP + user agent alone is 2. It is an estimate of what the gateway sends, not Meta's score.
/// </para>
/// </summary>
internal sealed class MatchQualityTracker
{
    internal static readonly (string Key, double Weight)[] Keys =
    [
        ("em", 4), ("click_id", 3), ("ph", 2), ("external_id", 1.5), ("browser_id", 1.5), ("ip", 1), ("ua", 1),
        ("db", 0.5), ("country", 0.5), ("fn", 0.25), ("ln", 0.25), ("ct", 0.25), ("st", 0.25), ("zp", 0.25), ("ge", 0.25),
    ];

    private readonly Lock _gate = new();
    private readonly long[][] _keyCounts = [.. Enumerable.Range(0, CapiDestinations.Count).Select(static _ => new long[Keys.Length])];
    private readonly long[] _events = new long[CapiDestinations.Count];
    private readonly double[] _scoreSum = new double[CapiDestinations.Count];
    private readonly CapiMetrics? _metrics;

    public MatchQualityTracker(CapiMetrics? metrics = null)
    {
        _metrics = metrics;
        if (metrics is not null)
        {
            metrics.Meter.CreateObservableGauge("taggateway.capi.match_quality.score", Observe, "{score}",
                "Estimated match quality (0-10) of delivered events, by destination; formula in the module README.");
        }
    }

    /// <summary>Which keys a delivered event carried, as the payload builder sent them (after consent).</summary>
    public static IdentityKeys KeysOf(CapiDestination destination, IdentityData identity, bool userData, bool identifiers)
    {
        var keys = IdentityKeys.None;
        if (userData)
        {
            keys |= Has(destination is CapiDestination.GoogleAds or CapiDestination.GoogleAnalytics ? identity.EmGoogle : identity.Em, IdentityKeys.Email);
            keys |= Has(destination switch
            {
                CapiDestination.Meta => identity.Fbc,
                CapiDestination.TikTok => identity.Ttclid,
                CapiDestination.GoogleAds => identity.Gclid ?? identity.Gbraid ?? identity.Wbraid,
                _ => null,
            }, IdentityKeys.ClickId);
            keys |= Has(destination == CapiDestination.Meta ? identity.Ph : identity.PhE164, IdentityKeys.Phone);
            keys |= Has(identity.ExternalId, IdentityKeys.ExternalId);
            keys |= Has(identity.Ip, IdentityKeys.Ip) | Has(identity.UserAgent, IdentityKeys.UserAgent) | Has(identity.Db, IdentityKeys.DateOfBirth) | Has(identity.Country, IdentityKeys.Country);
            keys |= Has(identity.Fn, IdentityKeys.FirstName) | Has(identity.Ln, IdentityKeys.LastName) | Has(identity.City, IdentityKeys.City)
                | Has(identity.State, IdentityKeys.State) | Has(identity.Zip, IdentityKeys.Zip) | Has(identity.Ge, IdentityKeys.Gender);
        }

        if (identifiers)
        {
            keys |= Has(destination switch
            {
                CapiDestination.Meta => identity.Fbp,
                CapiDestination.TikTok => identity.Ttp,
                CapiDestination.LinkedIn => identity.LiFatId,
                _ => null,
            }, IdentityKeys.BrowserId);
        }

        return keys;
    }

    public static double Score(IdentityKeys keys)
    {
        double sum = 0;
        for (var i = 0; i < Keys.Length; i++)
        {
            if (((int)keys & (1 << i)) != 0)
            {
                sum += Keys[i].Weight;
            }
        }

        return Math.Min(10, sum);
    }

    public void Record(CapiDestination destination, IReadOnlyList<IdentityKeys> keyMasks)
    {
        ArgumentNullException.ThrowIfNull(keyMasks);
        var perKey = new int[Keys.Length];
        double scores = 0;
        foreach (var mask in keyMasks)
        {
            scores += Score(mask);
            for (var i = 0; i < Keys.Length; i++)
            {
                perKey[i] += ((int)mask >> i) & 1;
            }
        }

        lock (_gate)
        {
            var d = (int)destination;
            _events[d] += keyMasks.Count;
            _scoreSum[d] += scores;
            for (var i = 0; i < Keys.Length; i++)
            {
                _keyCounts[d][i] += perKey[i];
            }
        }

        for (var i = 0; i < Keys.Length; i++)
        {
            if (perKey[i] > 0)
            {
                _metrics?.IdentityKey(destination, Keys[i].Key, perKey[i]);
            }
        }
    }

    public MatchQualityReport Report(IEnumerable<CapiDestination> destinations)
    {
        var list = new List<DestinationQuality>();
        lock (_gate)
        {
            foreach (var destination in destinations)
            {
                var d = (int)destination;
                var events = _events[d];
                var shares = new Dictionary<string, double>(StringComparer.Ordinal);
                for (var i = 0; i < Keys.Length; i++)
                {
                    shares[Keys[i].Key] = events == 0 ? 0 : Math.Round((double)_keyCounts[d][i] / events, 4);
                }

                list.Add(new DestinationQuality(destination.Name(), events, events == 0 ? 0 : Math.Round(_scoreSum[d] / events, 2), shares));
            }
        }

        return new MatchQualityReport("mean over delivered events of min(10, sum of key weights)", Keys.ToDictionary(static k => k.Key, static k => k.Weight), list);
    }

    private IEnumerable<Measurement<double>> Observe()
    {
        lock (_gate)
        {
            var result = new List<Measurement<double>>();
            foreach (var destination in CapiDestinations.All)
            {
                var d = (int)destination;
                if (_events[d] > 0)
                {
                    result.Add(new Measurement<double>(_scoreSum[d] / _events[d], new KeyValuePair<string, object?>("destination", destination.Name())));
                }
            }

            return result;
        }
    }

    private static IdentityKeys Has(string? value, IdentityKeys key) => value is null ? IdentityKeys.None : key;
}

internal sealed record MatchQualityReport(string Formula, Dictionary<string, double> Weights, List<DestinationQuality> Destinations)
{
    /// <summary>Google Analytics gap-fill counts (issue #13); absent when Google Analytics is not configured.</summary>
    public GapFill.GapFillReport? GoogleAnalyticsGapFill { get; init; }
}

internal sealed record DestinationQuality(string Destination, long DeliveredEvents, double EstimatedScore, Dictionary<string, double> KeyShares);
