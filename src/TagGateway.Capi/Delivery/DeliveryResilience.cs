using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Delivery.Http;
using TagGateway.Capi.Model;

namespace TagGateway.Capi.Delivery;

/// <summary>
/// The HttpClient and resilience pipeline of one destination: total timeout, retries with jittered exponential backoff
/// that honour Retry-After, a circuit breaker of its own, and a timeout per attempt. Only the platform's retryable
/// answers are retried: the predicate asks the destination's client, which reads the body where the platform puts its
/// error code there (Meta's Graph codes, TikTok's code on HTTP 200).
/// </summary>
internal static class DeliveryResilience
{
    public static void AddDestinationClient(IServiceCollection services, CapiDestination destination, DestinationOptions options, DeliveryOptions delivery)
    {
        var name = DestinationClient.HttpClientNameOf(destination);
        var baseUrl = options.BaseUrl.EndsWith('/') ? options.BaseUrl : options.BaseUrl + "/";
        var builder = services.AddHttpClient(name, client =>
        {
            client.BaseAddress = new Uri(baseUrl);
            client.Timeout = Timeout.InfiniteTimeSpan;
        });

        // Never follow a redirect (the default handler would re-send the token to Location), no cookies.
        builder.ConfigurePrimaryHttpMessageHandler(static () => OutboundHandlers.Primary());

        // The request URL and headers carry nothing secret, but payloads do: no default request logging at all.
        builder.RemoveAllLoggers();
        builder.AddResilienceHandler("capi-" + destination.Name(), (pipeline, context) =>
        {
            var classifier = context.ServiceProvider.GetRequiredKeyedService<DestinationClient>(destination);
            var attempt = options.AttemptTimeout;
            var total = (attempt * (delivery.RetryAttempts + 1)) + (delivery.RetryBaseDelay * (1 << Math.Min(delivery.RetryAttempts, 10)) * 2) + TimeSpan.FromSeconds(5);
            pipeline.AddTimeout(total);
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(delivery.RetryAttempts, 1),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = delivery.RetryBaseDelay,
                ShouldRetryAfterHeader = true,
                ShouldHandle = delivery.RetryAttempts == 0
                    ? static _ => ValueTask.FromResult(false)
                    : args => ShouldHandle(classifier, args.Outcome),
            });
            pipeline.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
            {
                FailureRatio = delivery.BreakerFailureRatio,
                MinimumThroughput = delivery.BreakerMinimumThroughput,
                SamplingDuration = delivery.BreakerSamplingDuration,
                BreakDuration = delivery.BreakerBreakDuration,
                ShouldHandle = args => ShouldHandle(classifier, args.Outcome),
            });
            pipeline.AddTimeout(attempt);
        });

        // Innermost: whatever the pipeline does, a credential only leaves for the configured origin.
        var origin = new Uri(baseUrl);
        builder.AddHttpMessageHandler(() => new ConfiguredOriginHandler(origin));
    }

    internal static async ValueTask<bool> ShouldHandle(DestinationClient classifier, Outcome<HttpResponseMessage> outcome)
    {
        if (outcome.Exception is not null)
        {
            return HttpClientResiliencePredicates.IsTransient(outcome);
        }

        var response = outcome.Result;
        if (response is null)
        {
            return false;
        }

        // A redirect is never retried (nor followed): the sender dead-letters it naming the Location host.
        if (OutboundHandlers.IsRedirect(response.StatusCode))
        {
            return false;
        }

        // Whether a 2xx can still be a failure is the platform's to say.
        return await classifier.IsRetryableAsync(response);
    }
}
