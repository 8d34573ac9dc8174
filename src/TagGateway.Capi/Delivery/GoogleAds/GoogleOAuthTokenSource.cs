using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using TagGateway.Capi.Configuration;
using TagGateway.Capi.Delivery.Http;
using TagGateway.Capi.Model;
using TagGateway.Capi.Observability;

namespace TagGateway.Capi.Delivery.GoogleAds;

/// <summary>
/// Access tokens for the Data Manager API from a refresh token (OAuth 2.0, RFC 6749 §6; Google: "Using OAuth 2.0 to
/// Access Google APIs", developers.google.com/identity/protocols/oauth2, refreshing an access token): a form POST of
/// grant_type=refresh_token, client_id, client_secret and refresh_token to the token endpoint answers
/// {access_token, expires_in, token_type}; a refresh token that was revoked or expired answers 400 {"error":"invalid_grant"}.
/// The token is kept until <c>TokenRefreshMargin</c> before its expires_in (by the injected TimeProvider), refreshed
/// by the first send after that, and at once when the API refuses it (401). One refresh at a time. A failed refresh
/// is an answer, not an exception: the batch is kept and retried with the destination's backoff, never dead-lettered.
/// Neither the tokens nor the client secret reach a log or an error text.
/// </summary>
internal sealed partial class GoogleOAuthTokenSource : IDisposable
{
    public const string HttpClientName = "TagGateway.Capi.GoogleOAuth";

    private readonly IHttpClientFactory _factory;
    private readonly GoogleOAuthCredentials _credentials;
    private readonly Uri _endpoint;
    private readonly TimeSpan _margin;
    private readonly TimeProvider _time;
    private readonly CapiMetrics _metrics;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile CachedToken? _current;

    public GoogleOAuthTokenSource(IHttpClientFactory factory, GoogleAdsOptions options, GoogleOAuthCredentials credentials, TimeProvider time, CapiMetrics metrics, ILogger<GoogleOAuthTokenSource> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _factory = factory;
        _credentials = credentials;
        _endpoint = new Uri(options.TokenEndpoint, UriKind.Absolute);
        _margin = options.TokenRefreshMargin;
        _time = time;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>
    /// A valid access token, refreshed when it is due or when <paramref name="rejected"/> is the one held (the API
    /// just refused it); else why none could be had.
    /// </summary>
    public async ValueTask<(string? Token, string? Error)> GetAsync(string? rejected, CancellationToken cancellationToken)
    {
        if (Usable(_current, rejected) is { } held)
        {
            return (held, null);
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            // Another sender may have refreshed it while this one waited.
            if (Usable(_current, rejected) is { } fresh)
            {
                return (fresh, null);
            }

            return await RefreshAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private string? Usable(CachedToken? token, string? rejected) =>
        token is not null && token.Value != rejected && _time.GetUtcNow() < token.RefreshAt ? token.Value : null;

    private async ValueTask<(string? Token, string? Error)> RefreshAsync(CancellationToken cancellationToken)
    {
        using var form = new FormUrlEncodedContent(
        [
            new("grant_type", "refresh_token"),
            new("client_id", _credentials.ClientId),
            new("client_secret", _credentials.ClientSecret),
            new("refresh_token", _credentials.RefreshToken),
        ]);
        HttpResponseMessage response;
        try
        {
            response = await _factory.CreateClient(HttpClientName).PostAsync(_endpoint, form, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return Failed("failed", $"token endpoint {_endpoint.IdnHost} unreachable ({ex.GetType().Name})");
        }

        using (response)
        {
            if (OutboundHandlers.IsRedirect(response.StatusCode))
            {
                return Failed("redirect", $"token endpoint answered HTTP {(int)response.StatusCode} redirect to {OutboundHandlers.RedirectHost(response)}; not followed, the client secret stays here");
            }

            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            if ((int)response.StatusCode is >= 200 and < 300 && Parse<OAuthTokenResponse>(body) is { AccessToken: { Length: > 0 } token } ok)
            {
                var lifetime = ok.ExpiresIn is > 0 ? ok.ExpiresIn.Value : 3600;
                var margin = TimeSpan.FromSeconds(Math.Min(_margin.TotalSeconds, lifetime / 2.0));
                _current = new CachedToken(token, _time.GetUtcNow() + TimeSpan.FromSeconds(lifetime) - margin);
                _metrics.TokenRefresh(CapiDestination.GoogleAds, "ok");
                Log.Refreshed(_logger, lifetime);
                return (token, null);
            }

            var error = Parse<OAuthErrorResponse>(body);
            if (response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized)
            {
                // invalid_grant (refresh token revoked or expired), invalid_client (id or secret wrong): an operator
                // must act. The events wait in the store meanwhile.
                _current = null;
                _metrics.TokenRefresh(CapiDestination.GoogleAds, "refused");
                var code = Printable(error?.Error) ?? "no error code";
                Log.Refused(_logger, (int)response.StatusCode, code, Printable(error?.ErrorDescription));
                return (null, $"Google OAuth refresh refused: HTTP {(int)response.StatusCode} {code}; events kept");
            }

            return Failed("failed", $"token endpoint answered HTTP {(int)response.StatusCode}");
        }
    }

    private (string? Token, string? Error) Failed(string outcome, string error)
    {
        _metrics.TokenRefresh(CapiDestination.GoogleAds, outcome);
        Log.Failed(_logger, error);
        return (null, "Google OAuth refresh failed: " + error + "; events kept");
    }

    private static T? Parse<T>(byte[] body)
        where T : class
    {
        try
        {
            return body.Length == 0 ? null : (T?)JsonSerializer.Deserialize(body, typeof(T), CapiSnakeJsonContext.Default);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The endpoint's own short texts, bounded and without control characters (they go to a log line).</summary>
    private static string? Printable(string? text) =>
        text is null ? null : new string([.. text.Take(200).Where(static c => !char.IsControl(c))]);

    public void Dispose() => _gate.Dispose();

    private sealed record CachedToken(string Value, DateTimeOffset RefreshAt)
    {
        public override string ToString() => "CachedToken [redacted]";
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5401, Level = LogLevel.Information, Message = "CAPI google_ads: OAuth access token refreshed, valid for {Seconds} s")]
        public static partial void Refreshed(ILogger logger, long seconds);

        [LoggerMessage(EventId = 5402, Level = LogLevel.Error, Message = "CAPI google_ads: the OAuth token endpoint refused the refresh token (HTTP {Status} {Code}: {Description}); a new refresh token (or client secret) is needed. Events are kept and retried.")]
        public static partial void Refused(ILogger logger, int status, string code, string? description);

        [LoggerMessage(EventId = 5403, Level = LogLevel.Warning, Message = "CAPI google_ads: OAuth token refresh failed: {Error}; events are kept and retried")]
        public static partial void Failed(ILogger logger, string error);
    }
}

/// <summary>The token endpoint's answer (RFC 6749 §5.1), snake_case.</summary>
internal sealed class OAuthTokenResponse
{
    public string? AccessToken { get; set; }

    public long? ExpiresIn { get; set; }

    public string? TokenType { get; set; }

    public string? Scope { get; set; }
}

/// <summary>RFC 6749 §5.2.</summary>
internal sealed class OAuthErrorResponse
{
    public string? Error { get; set; }

    public string? ErrorDescription { get; set; }
}
