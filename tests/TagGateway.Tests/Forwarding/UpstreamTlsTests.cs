using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Forwarding;

/// <summary>
/// Hits over TLS to a loopback upstream with a certificate made in the test (production upstreams are
/// <c>https://…fps.goog</c> and Google's hosts). The gateway trusts the test's own authority through
/// <see cref="TagGateway.Forwarding.UpstreamTrust"/> only; chain and host name are validated as in production.
/// Both clients run every case (the derived classes below) and are held to one behaviour.
/// </summary>
public abstract class UpstreamTlsTests
{
    private const string Hit = "/metrics/g/collect?v=2&tid=G-TEST1234&en=page_view";

    private static readonly List<SslApplicationProtocol> Http11 = [SslApplicationProtocol.Http11];

    /// <summary>The client under test.</summary>
    protected abstract string Client { get; }

    /// <summary>The protocols the client offers in its ClientHello, in order.</summary>
    protected abstract string[] OfferedProtocols { get; }

    /// <summary>What a TLS upstream offering HTTP/1.1 and HTTP/2 hears from the client.</summary>
    protected abstract string ProtocolWithHttp2Server { get; }

    [Fact]
    public async Task A_GA4_hit_goes_over_TLS_end_to_end_and_the_visitor_gets_the_upstreams_answer()
    {
        await using var upstream = await FakeUpstream.StartTlsAsync(TestCertificates.Upstream, static async (context, _) =>
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.Headers.Append("Set-Cookie", "FPLC=abc; Path=/; Max-Age=72000; Secure");
            context.Response.Headers.Append("Set-Cookie", "FPID=FPID2.2.xyz; Path=/; Max-Age=34560000; HttpOnly; Secure");
            context.Response.ContentType = "image/gif";
            await context.Response.Body.WriteAsync("GIF89a"u8.ToArray());
        });
        await using var gateway = await StartAsync(upstream.TlsOrigin!);
        const string body = "en=page_view&_et=12\r\nen=scroll&epn.percent_scrolled=90";

        using var request = new HttpRequestMessage(HttpMethod.Post, "/metrics/g/collect?v=2&tid=G-TEST1234&cid=123.456&gcs=G111")
        {
            Content = new StringContent(body, Encoding.UTF8, "text/plain"),
        };
        request.Headers.TryAddWithoutValidation("User-Agent", "Mozilla/5.0 (Macintosh) Safari/605.1.15");
        request.Headers.TryAddWithoutValidation("Cookie", "_ga=GA1.1.111.222; session=secret");
        using var response = await gateway.Public.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("GIF89a", await response.Content.ReadAsStringAsync());
        Assert.Equal(["FPLC=abc; Path=/; Max-Age=72000; Secure", "FPID=FPID2.2.xyz; Path=/; Max-Age=34560000; HttpOnly; Secure"], response.Headers.GetValues("Set-Cookie").Take(2));
        var seen = Assert.Single(upstream.Requests);
        Assert.True(seen.Tls);
        Assert.Equal(ProtocolWithHttp2Server, seen.Protocol);
        Assert.Equal(TestCertificates.TagGatewayName, seen.ServerName);
        Assert.Equal("POST", seen.Method);
        Assert.Equal("/metrics/g/collect?v=2&tid=G-TEST1234&cid=123.456&gcs=G111", seen.PathAndQuery);
        Assert.Equal("g-test1234.fps.goog", seen.Host);
        Assert.Equal(body, Encoding.UTF8.GetString(seen.Body));
        Assert.Equal("Mozilla/5.0 (Macintosh) Safari/605.1.15", seen.Header("User-Agent"));
        Assert.Equal("_ga=GA1.1.111.222", seen.Header("Cookie"));
        Assert.Equal("127.0.0.1", seen.Header("X-Forwarded-For"));
        Assert.StartsWith("text/plain", seen.Header("Content-Type"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TagGateway", TestCertificates.TagGatewayName)]
    [InlineData("Direct", TestCertificates.UpstreamHost)]
    public async Task The_upstreams_name_is_sent_as_SNI_the_Host_when_one_is_sent_else_the_origins(string mode, string serverName)
    {
        // Connected to localhost either way. TagGateway mode sends Host: g-test1234.fps.goog, which names the server
        // (as with the real https://g-….fps.goog); Direct mode sends the origin's own authority.
        await using var upstream = RawUpstream.StartTls(TestCertificates.Upstream, exchange => exchange.WriteAsync(RawUpstream.Ok("good")), Http11);
        await using var gateway = await StartAsync(upstream.Origin, ("Gateway:Mode", mode));

        var outcome = await SendAsync(gateway);

        Assert.Equal((HttpStatusCode.OK, "good"), (outcome.Status, outcome.Body));
        var hello = Assert.Single(upstream.ClientHellos);
        Assert.Equal(serverName, hello.ServerName);
        Assert.True(upstream.Heads.TryPeek(out var head));
        Assert.Contains(mode == "Direct" ? $"Host: {TestCertificates.UpstreamHost}:{upstream.Origin.Port}" : $"Host: {serverName}", head.Split("\r\n"));
    }

    [Fact]
    public async Task Hits_share_one_TLS_connection_and_one_handshake()
    {
        await using var upstream = RawUpstream.StartTls(TestCertificates.Upstream, exchange => exchange.WriteAsync(RawUpstream.Ok($"hit-{exchange.Index}")), Http11);
        await using var gateway = await StartAsync(upstream.Origin);

        for (var i = 1; i <= 5; i++)
        {
            var outcome = await SendAsync(gateway);
            Assert.Equal((HttpStatusCode.OK, $"hit-{i}"), (outcome.Status, outcome.Body));
        }

        Assert.Equal(1, upstream.Connections);
        Assert.Equal(1, upstream.Handshakes);
        Assert.Equal(5, upstream.Requests);
    }

    public static TheoryData<string> RefusedCertificates => new() { "untrusted authority", "another host name" };

    [Theory]
    [MemberData(nameof(RefusedCertificates))]
    public async Task A_certificate_the_gateway_must_not_trust_is_a_502_and_nothing_reaches_the_upstream(string which)
    {
        var certificate = which == "untrusted authority" ? TestCertificates.Untrusted : TestCertificates.OtherHost;
        await using var upstream = await FakeUpstream.StartTlsAsync(certificate);
        await using var gateway = await StartAsync(upstream.TlsOrigin!);
        var logs = new CapturedLogs();
        gateway.Services.GetRequiredService<ILoggerFactory>().AddProvider(logs);

        using var response = await gateway.Public.PostAsync(Hit, new StringContent("en=purchase&ep.transaction_id=T1"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(0, upstream.Count);
        var line = Assert.Single(logs.Lines, l => l.EventId == 1100);
        Assert.Contains($"https://{TestCertificates.UpstreamHost}:{upstream.TlsOrigin!.Port}/metrics/g/collect", line.Message, StringComparison.Ordinal);
        // The platform's reason: no chain to a trusted root, or a certificate for another name.
        Assert.Contains(which == "untrusted authority" ? "certificate chain" : "RemoteCertificateNameMismatch", line.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("transaction_id", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_https_origin_that_answers_in_plain_HTTP_is_a_502()
    {
        // Kestrel without TLS reads the ClientHello as a bad request and answers 400 in clear text.
        await using var upstream = await FakeUpstream.StartAsync();
        await using var gateway = await StartAsync(new Uri($"https://{TestCertificates.UpstreamHost}:{upstream.Origin.Port}"));

        using var response = await gateway.Public.GetAsync(Hit);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal(0, upstream.Count);
    }

    [Fact]
    public async Task The_upstream_closing_TLS_mid_body_aborts_the_visitor_and_the_next_hit_gets_a_fresh_connection()
    {
        await using var upstream = RawUpstream.StartTls(TestCertificates.Upstream, async exchange =>
        {
            if (exchange.Index == 1)
            {
                await exchange.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nevil");
                exchange.Close = true;
                return;
            }

            await exchange.WriteAsync(RawUpstream.Ok("good"));
        }, Http11);
        await using var gateway = await StartAsync(upstream.Origin);

        var first = await SendAsync(gateway);
        var second = await SendAsync(gateway);

        Assert.Null(first.Status);
        Assert.Equal((HttpStatusCode.OK, "good"), (second.Status, second.Body));
        Assert.Equal(2, upstream.Connections);
        Assert.Equal(2, upstream.Handshakes);
    }

    [Fact]
    public async Task The_client_offers_only_the_protocols_it_speaks_and_settles_on_HTTP_1_1()
    {
        await using var upstream = RawUpstream.StartTls(TestCertificates.Upstream, exchange => exchange.WriteAsync(RawUpstream.Ok("good")), Http11);
        await using var gateway = await StartAsync(upstream.Origin);

        var outcome = await SendAsync(gateway);

        Assert.Equal((HttpStatusCode.OK, "good"), (outcome.Status, outcome.Body));
        Assert.True(upstream.ClientHellos.TryPeek(out var hello));
        Assert.Equal(OfferedProtocols, hello.ApplicationProtocols);
        Assert.Equal(["http/1.1"], upstream.NegotiatedProtocols);
    }

    [Fact]
    public async Task A_server_that_selects_no_ALPN_protocol_is_spoken_to_in_HTTP_1_1()
    {
        await using var upstream = RawUpstream.StartTls(TestCertificates.Upstream, exchange => exchange.WriteAsync(RawUpstream.Ok($"hit-{exchange.Index}")), alpn: null);
        await using var gateway = await StartAsync(upstream.Origin);

        var first = await SendAsync(gateway);
        var second = await SendAsync(gateway);

        Assert.Equal((HttpStatusCode.OK, "hit-1"), (first.Status, first.Body));
        Assert.Equal((HttpStatusCode.OK, "hit-2"), (second.Status, second.Body));
        Assert.Equal([string.Empty], upstream.NegotiatedProtocols);
        Assert.All(upstream.Heads, head => Assert.StartsWith("GET /metrics/g/collect?v=2&tid=G-TEST1234&en=page_view HTTP/1.1\r\n", head, StringComparison.Ordinal));
        Assert.Equal(1, upstream.Handshakes);
    }

    [Fact]
    public async Task A_TLS_handshake_that_never_completes_is_a_502_at_the_connect_timeout_not_a_504()
    {
        // Accepts TCP and never says a TLS word: the handshake, not the response, must time out.
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = new ConcurrentBag<Socket>();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    accepted.Add(await silent.AcceptSocketAsync());
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        });
        var origin = new Uri($"https://{TestCertificates.UpstreamHost}:{((IPEndPoint)silent.LocalEndpoint).Port}");
        await using var gateway = await StartAsync(origin, ("Gateway:Forwarding:ConnectTimeout", "00:00:00.500"), ("Gateway:Forwarding:ResponseTimeout", "00:00:20"));

        using var response = await gateway.Public.GetAsync(Hit);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.NotEmpty(accepted);
        silent.Stop();
        await accepting;
        foreach (var socket in accepted)
        {
            socket.Dispose();
        }
    }

    [Fact]
    public async Task Idle_TLS_connections_the_upstream_closed_are_never_used_for_a_hit()
    {
        // Two hits at once open two connections; the upstream answers both and then closes both cleanly (close_notify
        // and FIN), as a server does with connections it times out. The next hit must not be sent on either.
        var bothArrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = RawUpstream.StartTls(TestCertificates.Upstream, async exchange =>
        {
            if (exchange.Index <= 2)
            {
                if (exchange.Index == 2)
                {
                    bothArrived.TrySetResult();
                }

                await bothArrived.Task.WaitAsync(exchange.Stopping);
                await exchange.WriteAsync(RawUpstream.Ok("first"));
                exchange.Close = true;
                return;
            }

            await exchange.WriteAsync(RawUpstream.Ok("good"));
        }, Http11);
        await using var gateway = await StartAsync(upstream.Origin);

        var firsts = await Task.WhenAll(SendAsync(gateway), SendAsync(gateway));
        await WaitUntilAsync(() => upstream.Closed == 2);
        var next = await SendAsync(gateway);

        Assert.All(firsts, first => Assert.Equal((HttpStatusCode.OK, "first"), (first.Status, first.Body)));
        Assert.Equal((HttpStatusCode.OK, "good"), (next.Status, next.Body));
        Assert.Equal(3, upstream.Connections);
        Assert.Equal(3, upstream.Requests);
    }

    private async Task<GatewayInstance> StartAsync(Uri origin, params (string Key, string Value)[] extra)
    {
        var settings = GatewayInstance.Settings(origin);
        settings["Gateway:Forwarding:Client"] = Client;
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return await GatewayInstance.StartAsync(settings, services: static services => services.AddSingleton(TestCertificates.Trust));
    }

    /// <summary>The visitor's view: a status and body, or a null status when the connection was aborted.</summary>
    private static async Task<(HttpStatusCode? Status, string Body)> SendAsync(GatewayInstance gateway)
    {
        try
        {
            using var response = await gateway.Public.GetAsync(Hit);
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException)
        {
            return (null, string.Empty);
        }
    }

    /// <summary>Waits for the fake to reach a state (the order of events, not a duration).</summary>
    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }
}

public sealed class UpstreamTlsTestsOverHttp : UpstreamTlsTests
{
    protected override string Client => "Http";

    protected override string[] OfferedProtocols => ["h2", "http/1.1"];

    protected override string ProtocolWithHttp2Server => "HTTP/2";
}

public sealed class UpstreamTlsTestsOverPipelines : UpstreamTlsTests
{
    protected override string Client => "Pipelines";

    protected override string[] OfferedProtocols => ["http/1.1"];

    protected override string ProtocolWithHttp2Server => "HTTP/1.1";
}
