using TagGateway.Capi.Model;
using TagGateway.Capi.Quality;

namespace TagGateway.Capi.Tests.Quality;

/// <summary>The identity-key flags and the tracker's key table describe the same keys, bit for bit.</summary>
public sealed class MatchQualityTrackerTests
{
    [Fact]
    public void A_recorded_key_counts_under_its_own_name_and_weight()
    {
        var tracker = new MatchQualityTracker();
        tracker.Record(CapiDestination.Meta, [IdentityKeys.Email | IdentityKeys.Ip, IdentityKeys.Zip | IdentityKeys.Gender]);

        var meta = Assert.Single(tracker.Report([CapiDestination.Meta]).Destinations);
        Assert.Equal(2, meta.DeliveredEvents);
        Assert.Equal(0.5, meta.KeyShares["em"]);
        Assert.Equal(0.5, meta.KeyShares["ip"]);
        Assert.Equal(0.5, meta.KeyShares["zp"]);
        Assert.Equal(0.5, meta.KeyShares["ge"]);
        Assert.All(meta.KeyShares.Where(static s => s.Key is not ("em" or "ip" or "zp" or "ge")), static s => Assert.Equal(0, s.Value));

        // (4 + 1) and (0.25 + 0.25): the weights of exactly those keys.
        Assert.Equal(2.75, meta.EstimatedScore);
    }

    [Fact]
    public void Every_flag_is_one_entry_of_the_key_table()
    {
        var flags = Enum.GetValues<IdentityKeys>().Where(static k => k != IdentityKeys.None).ToArray();
        Assert.Equal(MatchQualityTracker.Keys.Length, flags.Length);
        for (var i = 0; i < flags.Length; i++)
        {
            Assert.Equal(1 << i, (int)flags[i]);
        }

        var all = flags.Aggregate(IdentityKeys.None, static (a, k) => a | k);
        Assert.Equal(10, MatchQualityTracker.Score(all));
    }

    [Fact]
    public void Keys_of_an_identity_follow_the_destination_and_the_consent()
    {
        var identity = new IdentityData { Em = "e", EmGoogle = null, Fbp = "fb.1.1.1", Ttp = "t", Zip = "94107" };
        Assert.Equal(IdentityKeys.Email | IdentityKeys.Zip | IdentityKeys.BrowserId, MatchQualityTracker.KeysOf(CapiDestination.Meta, identity, userData: true, identifiers: true));

        // Google reads its own email form, absent here; browser ids are nothing Google takes.
        Assert.Equal(IdentityKeys.Zip, MatchQualityTracker.KeysOf(CapiDestination.GoogleAds, identity, userData: true, identifiers: true));

        // Without user-data consent only the identifier (a cookie) counts.
        Assert.Equal(IdentityKeys.BrowserId, MatchQualityTracker.KeysOf(CapiDestination.TikTok, identity, userData: false, identifiers: true));
    }
}
