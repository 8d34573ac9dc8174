using TagGateway.Capi.Configuration;

namespace TagGateway.Hosting;

/// <summary>
/// The CAPI store's memory budgets (live events and the dedup ledger) against the memory the GC may use: a hard heap
/// limit, a container's limit (the runtime takes 75 % of it) or the machine's memory.
/// <para>
/// Each budget is a ceiling the store keeps to, but the heap needs about twice what is live: garbage waits for the
/// next collection, a CAPI event lives through the merge window (5 s), long enough to die in the oldest generation, and
/// the ledger's old and new arrays are both alive at a growth step (bench/README.md). Budgets above half of what the GC may
/// use can therefore run the heap out under a burst; the gateway would then exit (<see cref="OutOfMemoryExit"/>) and a
/// restart would replay into the same squeeze. So it is said at start-up (warning 6) and in the setup check, with the
/// numbers to change.
/// </para>
/// </summary>
internal sealed class MemoryBudget
{
    public MemoryBudget(long availableBytes, StoreOptions? capiStore)
    {
        AvailableBytes = availableBytes;
        CapiBytes = capiStore is { Kind: CapiStoreKind.Journal } ? capiStore.MaxMemoryBytes + capiStore.LedgerMaxBytes : 0;
    }

    /// <summary>What the GC may use (<see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>).</summary>
    public long AvailableBytes { get; }

    /// <summary>The CAPI journal's two budgets together (0 when CAPI is off or the store is Redis).</summary>
    public long CapiBytes { get; }

    /// <summary>The budgets may take more than half of what the GC may use.</summary>
    public bool IsOverCommitted => CapiBytes > AvailableBytes / 2;

    public static MemoryBudget FromRuntime(StoreOptions? capiStore) => new(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes, capiStore);

    public static string MiB(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("0", System.Globalization.CultureInfo.InvariantCulture) + " MiB";
}
