using System.Diagnostics.CodeAnalysis;

namespace TagGateway.Capi.Storage.Redis;

/// <summary>
/// Whether this build carries the Redis store. On unless the host's build sets the runtime option
/// <c>TagGateway.Capi.RedisStore.IsSupported=false</c> with Trim="true": the trimmer then takes the property as false,
/// drops the branch that creates the store, and StackExchange.Redis with it (about 2.5 MB of the native binary), for
/// single-instance deployments that keep the embedded journal.
/// </summary>
internal static class RedisStoreFeature
{
    public const string Switch = "TagGateway.Capi.RedisStore.IsSupported";

    [FeatureSwitchDefinition(Switch)]
    public static bool IsSupported => !AppContext.TryGetSwitch(Switch, out var enabled) || enabled;
}
