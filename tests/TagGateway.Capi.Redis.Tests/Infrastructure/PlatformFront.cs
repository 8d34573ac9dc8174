using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using TagGateway.TestKit.Loopback;

namespace TagGateway.Capi.Redis.Tests.Infrastructure;

/// <summary>
/// Slow platforms that behave like real ones when the caller dies: the request is read and processed (passed to the
/// fakes at once, which record it) and only the answer is late. So a gateway killed while waiting for the answer has
/// delivered, as it would have at Meta; the shared fakes' own latency delays before reading, which models the other
/// case (a request cut before the platform saw it).
/// </summary>
public sealed class PlatformFront : LoopbackServer
{
    private static readonly string[] ForwardedHeaders = ["Authorization", "Access-Token", "LinkedIn-Version", "X-Restli-Protocol-Version", "X-RestLi-Method"];

    private readonly HttpClient _client;

    private PlatformFront(HttpClient client)
    {
        _client = client;
    }

    /// <summary>How long the answer takes after the platform has processed the request.</summary>
    public TimeSpan AnswerDelay { get; set; }

    /// <summary>No answer leaves before this time (UTC): requests sent meanwhile stay in flight, so a kill lands mid-delivery.</summary>
    public DateTime HoldUntil { get; set; }

    public static Task<PlatformFront> StartAsync(FakePlatforms fake) =>
        ListenAsync(new PlatformFront(new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = fake.Origin }));

    protected override void Map(WebApplication app) => app.Run(RelayAsync);

    private async Task RelayAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body, CancellationToken.None);
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), context.Request.Path + context.Request.QueryString)
        {
            Content = new ByteArrayContent(body.ToArray()),
        };
        if (context.Request.ContentType is { } type)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Type", type);
        }

        foreach (var header in ForwardedHeaders)
        {
            if (context.Request.Headers.TryGetValue(header, out var value))
            {
                request.Headers.TryAddWithoutValidation(header, value.ToString());
            }
        }

        // Not cancelled with the caller: the platform has the request and processes it whatever the caller does.
        using var answer = await _client.SendAsync(request, CancellationToken.None);
        var content = await answer.Content.ReadAsByteArrayAsync(CancellationToken.None);
        var held = HoldUntil - DateTime.UtcNow;
        await Task.Delay(held > AnswerDelay ? held : AnswerDelay, CancellationToken.None);
        try
        {
            context.Response.StatusCode = (int)answer.StatusCode;
            context.Response.ContentType = answer.Content.Headers.ContentType?.ToString();
            await context.Response.Body.WriteAsync(content, CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The caller is gone (killed): the platform processed the request all the same.
        }
    }

    public override async ValueTask DisposeAsync()
    {
        _client.Dispose();
        await base.DisposeAsync();
    }
}
