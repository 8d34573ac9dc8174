using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using TagGateway.Capi.Model;

namespace TagGateway.Capi.Storage.Redis;

/// <summary>Background work: heartbeat and health, consumer groups, claims of dead instances' entries, expiry.</summary>
internal sealed partial class RedisCapiStore
{
    private async Task BackgroundAsync(CancellationToken cancellationToken)
    {
        var period = _options.ConsumerTtl / 3;
        long lastExpiry = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(period, _time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            await HeartbeatAsync();
            if (!_healthy)
            {
                continue;
            }

            try
            {
                await EnsureGroupsAsync();
                await DrainAsync(cancellationToken);
                var now = NowMs();
                if (now - lastExpiry > 60_000)
                {
                    lastExpiry = now;
                    await ExpireDeadLettersAsync(now);
                    await ForgetIdleConsumersAsync();
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (IsRedisFailure(ex))
            {
                MarkUnhealthy(ex);
            }
        }
    }

    private async Task HeartbeatAsync()
    {
        try
        {
            await Db.StringSetAsync(_prefix + "alive:" + ConsumerName, NowMs(), _options.ConsumerTtl);
            if (!_healthy)
            {
                Interlocked.Exchange(ref _healthySinceMs, NowMs());
                _healthy = true;
                Log.Reachable(_logger, _spill.Bytes);
                foreach (var state in _states)
                {
                    state.Signal();
                }
            }
        }
        catch (Exception ex) when (IsRedisFailure(ex))
        {
            MarkUnhealthy(ex);
        }
    }

    private async Task EnsureGroupsAsync()
    {
        if (_groupsReady)
        {
            return;
        }

        foreach (var state in _states)
        {
            try
            {
                // From the stream's start: entries added before the first instance ever started are read too.
                await Db.StreamCreateConsumerGroupAsync(state.Stream, Group, "0-0", createStream: true);
            }
            catch (RedisServerException ex) when (ex.Message.Contains("BUSYGROUP", StringComparison.Ordinal))
            {
                // Another instance created it.
            }
        }

        _groupsReady = true;
    }

    /// <summary>
    /// Every start is a new consumer; the groups would list every instance that ever ran. A consumer with nothing
    /// pending and idle for an hour is removed (its entries, if any, were claimed long before).
    /// </summary>
    private async Task ForgetIdleConsumersAsync()
    {
        foreach (var state in _states)
        {
            foreach (var consumer in await Db.StreamConsumerInfoAsync(state.Stream, Group))
            {
                if (consumer.PendingMessageCount == 0 && consumer.IdleTimeInMilliseconds > 3_600_000 && consumer.Name != ConsumerName)
                {
                    await Db.StreamDeleteConsumerAsync(state.Stream, Group, consumer.Name);
                }
            }
        }
    }

    private void MarkUnhealthy(Exception ex)
    {
        if (ex is RedisServerException server && server.Message.StartsWith("NOGROUP", StringComparison.Ordinal))
        {
            // The streams were deleted (a flushed Redis): recreate the groups on the next call.
            _groupsReady = false;
            return;
        }

        _healthy = false;
        var now = NowMs();
        if (now - Interlocked.Read(ref _lastErrorLogMs) > 5_000)
        {
            Interlocked.Exchange(ref _lastErrorLogMs, now);
            Log.Unreachable(_logger, _spill.Bytes, ex);
        }
    }

    private static bool IsRedisFailure(Exception ex) =>
        ex is RedisException or TimeoutException or ObjectDisposedException or IOException
        || (ex is AggregateException { InnerException: { } inner } && IsRedisFailure(inner));
}
