using System.Runtime.InteropServices;

namespace TagGateway.Scripts;

/// <summary>
/// Compressing a script at its best leaves megabytes behind that an idle gateway would keep for good: copies of the body
/// and encoder buffers in the GC heap (no collection comes while idle) and the Brotli encoder's tables in glibc's
/// per-thread arenas. Once the last compression in flight is done, they go back to the OS: one compacting collection
/// and one malloc_trim per script fetch (every few minutes at most), measured at about 10 MB of idle RSS.
/// </summary>
internal static partial class CompressionMemory
{
    private static int s_inFlight;

    public static void Started() => Interlocked.Increment(ref s_inFlight);

    public static void Finished()
    {
        if (Interlocked.Decrement(ref s_inFlight) != 0)
        {
            return;
        }

        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        if (OperatingSystem.IsLinux())
        {
            TrimNativeHeap();
        }
    }

    private static void TrimNativeHeap()
    {
        try
        {
            _ = MallocTrim(0);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (musl has no malloc_trim): its allocator returns memory its own way.
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "malloc_trim")]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int MallocTrim(nuint pad);
}
