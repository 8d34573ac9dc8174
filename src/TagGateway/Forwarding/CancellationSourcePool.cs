using System.Collections.Concurrent;

namespace TagGateway.Forwarding;

/// <summary>
/// Reuses timeout sources across requests: one source per hit would be an allocation on the hottest path.
/// A rented source cancels on the client's abort or after the timeout, whichever comes first.
/// </summary>
internal sealed class CancellationSourcePool
{
    private const int MaxPooled = 256;
    private readonly ConcurrentQueue<PooledSource> _pool = new();
    private int _count;

    public PooledSource Rent(TimeSpan timeout, CancellationToken clientAborted)
    {
        if (_pool.TryDequeue(out var source))
        {
            Interlocked.Decrement(ref _count);
        }
        else
        {
            source = new PooledSource();
        }

        source.Registration = clientAborted.UnsafeRegister(static state => ((PooledSource)state!).Cancel(), source);
        source.CancelAfter(timeout);
        return source;
    }

    public void Return(PooledSource source)
    {
        source.Registration.Dispose();
        if (source.TryReset())
        {
            if (Interlocked.Increment(ref _count) <= MaxPooled)
            {
                _pool.Enqueue(source);
                return;
            }

            Interlocked.Decrement(ref _count);
        }

        source.Dispose();
    }

    internal sealed class PooledSource : CancellationTokenSource
    {
        public CancellationTokenRegistration Registration { get; set; }
    }
}
