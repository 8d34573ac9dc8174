using TagGateway.Capi.Configuration;
using TagGateway.Hosting;

namespace TagGateway.Tests.Lifecycle;

/// <summary>
/// What counts against the GC's memory: the journal's two budgets, only when CAPI is on with the journal (the process
/// tests in TagGateway.Capi.Tests show the warning and the setup line from a real heap limit).
/// </summary>
public sealed class MemoryBudgetTests
{
    private const long MiB = 1024 * 1024;

    [Theory]
    [InlineData(128, 32, 64, true)]
    [InlineData(192, 32, 64, false)]
    [InlineData(191, 32, 64, true)]
    [InlineData(24 * 1024, 32, 64, false)]
    public void The_journal_budgets_are_over_committed_above_half_of_what_the_GC_may_use(long availableMiB, long eventsMiB, long ledgerMiB, bool over)
    {
        var store = new StoreOptions { Kind = CapiStoreKind.Journal, MaxMemoryBytes = eventsMiB * MiB, LedgerMaxBytes = ledgerMiB * MiB };
        var budget = new MemoryBudget(availableMiB * MiB, store);
        Assert.Equal((eventsMiB + ledgerMiB) * MiB, budget.CapiBytes);
        Assert.Equal(over, budget.IsOverCommitted);
    }

    [Fact]
    public void Capi_off_or_a_Redis_store_holds_nothing_in_this_process()
    {
        Assert.Equal(0, new MemoryBudget(16 * MiB, null).CapiBytes);
        Assert.False(new MemoryBudget(16 * MiB, null).IsOverCommitted);
        var redis = new StoreOptions { Kind = CapiStoreKind.Redis, MaxMemoryBytes = 32 * MiB, LedgerMaxBytes = 64 * MiB };
        Assert.False(new MemoryBudget(16 * MiB, redis).IsOverCommitted);
    }

    [Fact]
    public void The_out_of_memory_message_names_the_limit_and_what_to_change()
    {
        var message = OutOfMemoryExit.Message(96 * MiB);
        Assert.Contains("96 MiB", message, StringComparison.Ordinal);
        Assert.Contains("Capi:Store:MaxMemoryBytes", message, StringComparison.Ordinal);
        Assert.Contains("Capi:Store:LedgerMaxBytes", message, StringComparison.Ordinal);
    }
}
