namespace TagGateway.Hosting;

/// <summary>
/// An <see cref="OutOfMemoryException"/> anywhere ends the process at once (<see cref="Environment.FailFast(string)"/>,
/// exit by SIGABRT) so the supervisor (systemd, Kubernetes, Cloud Run) restarts it.
/// <para>
/// Why not carry on: once the GC heap is at its limit (a container's memory limit sets it to 75 % of that), Kestrel's
/// accept loop ends on the first failed allocation and never restarts, and background loops fail one after the other.
/// Measured under CAPI load with a small heap limit: both listeners stopped accepting (connections queued in the
/// kernel's backlog), SIGTERM never completed the shutdown, and the process sat idle answering nothing until killed.
/// A restart costs nothing accepted: a CAPI event is answered 202 only after its journal record is fsync'd.
/// </para>
/// <para>
/// Every input the gateway reads is bounded (bodies, headers, batch sizes), so no request can make one allocation large
/// enough to throw on its own: an OutOfMemoryException here always means the heap itself is exhausted.
/// </para>
/// </summary>
internal static class OutOfMemoryExit
{
    private static string s_message = string.Empty;
    private static int s_installed;

    public static void Install()
    {
        if (Interlocked.Exchange(ref s_installed, 1) != 0)
        {
            return;
        }

        // Built now: once the heap is exhausted there may be no memory left to format it.
        s_message = Message(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes);
        AppDomain.CurrentDomain.FirstChanceException += static (_, e) =>
        {
            if (e.Exception is OutOfMemoryException)
            {
                Environment.FailFast(s_message);
            }
        };
    }

    internal static string Message(long availableBytes) =>
        $"TagGateway: out of memory (the GC heap may use {MemoryBudget.MiB(availableBytes)}); exiting so the supervisor "
        + "restarts the gateway. CAPI events already answered 202 are in the journal and are delivered after the restart. "
        + "Give the process more memory, or lower Capi:Store:MaxMemoryBytes and Capi:Store:LedgerMaxBytes (the setup check "
        + "and start-up warning 6 compare them with the memory the GC may use).";
}
