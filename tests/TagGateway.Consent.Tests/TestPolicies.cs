using TagGateway.Consent.Configuration;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Tests;

/// <summary>Policies built straight from options, without a host.</summary>
internal static class TestPolicies
{
    public static SnapshotPolicy Create(Action<ConsentOptions>? configure = null)
    {
        var options = new ConsentOptions();
        configure?.Invoke(options);
        return new SnapshotPolicy(ConsentPolicySnapshot.Create(options));
    }

    public static ConsentDecision Decide(string query, string region = "US", bool gpc = false) =>
        Create().Decide(ConsentSignals.FromQuery(query, gpc), region);
}

internal sealed class SnapshotPolicy(ConsentPolicySnapshot snapshot) : IConsentPolicy
{
    public ConsentPolicySnapshot Snapshot { get; } = snapshot;

    public ConsentDecision Decide(in ConsentSignals signals, ReadOnlySpan<char> region) => Snapshot.Decide(signals, region);

    public bool TryGetDestination(ReadOnlySpan<char> name, out ConsentDestination destination)
    {
        var found = Snapshot.Destinations.TryGetIndex(name, out var index);
        destination = found ? (ConsentDestination)index : (ConsentDestination)(-1);
        return found;
    }
}

/// <summary>The gcd encoder from the reference: letter = alphabet[16 + 4·d + u], d and u in {1 not set, 2 denied, 3 granted}.</summary>
internal static class Gcd
{
    public const string Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_";

    public static char Letter(ConsentState @default, ConsentState update) => Alphabet[16 + (4 * Code(@default)) + Code(update)];

    /// <summary>A gcd whose four types are each granted by update or denied by update.</summary>
    public static string FromGranted(ConsentTypes granted)
    {
        char L(ConsentTypes t) => Letter(ConsentState.Unknown, (granted & t) != 0 ? ConsentState.Granted : ConsentState.Denied);
        return $"13{L(ConsentTypes.AdStorage)}3{L(ConsentTypes.AnalyticsStorage)}3{L(ConsentTypes.AdUserData)}3{L(ConsentTypes.AdPersonalization)}5";
    }

    private static int Code(ConsentState state) => state switch
    {
        ConsentState.Denied => 2,
        ConsentState.Granted => 3,
        _ => 1,
    };
}
