using System.Net;
using TagGateway.Tests.Infrastructure;

namespace TagGateway.Tests.Forwarding;

/// <summary>
/// The pipelines client against an upstream that answers with raw, hostile or broken bytes: each ends in a clean
/// 502/504 or an aborted visitor connection, never a wrong body, and the next hit gets a fresh connection (counted
/// on the fake), never the poisoned one.
/// </summary>
public sealed class HostileUpstreamTests
{
    private const string Hit = "/metrics/g/collect?v=2&tid=G-TEST1234&en=page_view";

    public static TheoryData<string> RefusedHeads => new()
    {
        "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nevil\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\nevil",
        "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 4\r\n\r\nevil",
        "HTTP/1.1 200 OK\r\nContent-Length: 4, 4\r\n\r\nevil",
        "HTTP/1.1 200 OK\r\nContent-Length: +4\r\n\r\nevil",
        "HTTP/1.1 200 OK\r\nContent-Length: 0x4\r\n\r\nevil",
        "HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 4\r\n\r\nevil",
        "HTTP/1.1 200 OK\r\nContent-Length : 4\r\n\r\nevil",
        "HTTP/1.1 200 OK\r\nX-Bare: a\nContent-Length: 4\r\n\r\nevil",
        "HTTP/1.1 200 OK\r\nX-Nul: a\0b\r\nContent-Length: 4\r\n\r\nevil",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n4\r\nevil\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nevil\r\n0\r\n\r\n",
        "HTTP/1.1 2OO OK\r\nContent-Length: 4\r\n\r\nevil",
        "HTTP/2 200\r\nContent-Length: 4\r\n\r\nevil",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\nevil",
        "HTTP/1.1 200 OK\r\nX-Big: " + new string('a', 140_000) + "\r\nContent-Length: 4\r\n\r\nevil",
        "HTTP/1.1 200 OK\r\n" + string.Concat(Enumerable.Repeat("X-Many: 1\r\n", 300)) + "Content-Length: 4\r\n\r\nevil",
    };

    [Theory]
    [MemberData(nameof(RefusedHeads))]
    public async Task An_ambiguous_or_oversized_head_is_a_502_and_the_connection_is_not_reused(string hostile)
    {
        var first = await PoisonedThenGoodAsync(exchange => exchange.WriteAsync(hostile));

        Assert.Equal(HttpStatusCode.BadGateway, first.Status);
        Assert.DoesNotContain("evil", first.Body, StringComparison.Ordinal);
    }

    public static TheoryData<string> BrokenBodies => new()
    {
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nevil\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-4\r\nevil\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n 4\r\nevil\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\nevil\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nevilX0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nevil\r\n0\r\nbad trailer\r\n\r\n",
    };

    [Theory]
    [MemberData(nameof(BrokenBodies))]
    public async Task A_broken_chunked_body_aborts_the_visitor_and_the_next_hit_gets_a_fresh_connection(string hostile)
    {
        var first = await PoisonedThenGoodAsync(exchange => exchange.WriteAsync(hostile));

        AssertRefusedOrAborted(first);
    }

    [Fact]
    public async Task Closed_mid_head_is_a_502()
    {
        var first = await PoisonedThenGoodAsync(async exchange =>
        {
            await exchange.WriteAsync("HTTP/1.1 200 OK\r\nContent-Le");
            exchange.Close = true;
        });

        Assert.Equal(HttpStatusCode.BadGateway, first.Status);
    }

    [Fact]
    public async Task Closed_mid_body_aborts_the_visitor_rather_than_relaying_a_short_body()
    {
        var first = await PoisonedThenGoodAsync(async exchange =>
        {
            await exchange.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nevil");
            exchange.Close = true;
        });

        Assert.Null(first.Status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_response_split_into_one_byte_writes_is_relayed_whole_and_the_connection_reused(bool chunked)
    {
        var answer = chunked
            ? "HTTP/1.1 200 OK\r\nSet-Cookie: FPLC=x; Path=/\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n-world\r\n0\r\nX-Trailer: t\r\n\r\n"
            : RawUpstream.Ok("hello-world", "Set-Cookie: FPLC=x; Path=/\r\n");
        await using var upstream = RawUpstream.Start(exchange => exchange.TrickleAsync(answer));
        await using var gateway = await StartAsync(upstream);

        var first = await SendAsync(gateway);
        var second = await SendAsync(gateway);

        Assert.Equal((HttpStatusCode.OK, "hello-world"), (first.Status!.Value, first.Body));
        Assert.Contains("FPLC=x; Path=/", first.SetCookie, StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.OK, "hello-world"), (second.Status!.Value, second.Body));
        Assert.Equal(1, upstream.Connections);
    }

    [Fact]
    public async Task A_100_continue_before_the_real_response_is_skipped()
    {
        await using var upstream = RawUpstream.Start(exchange => exchange.WriteAsync("HTTP/1.1 100 Continue\r\n\r\n" + RawUpstream.Ok("real")));
        await using var gateway = await StartAsync(upstream);

        var response = await SendAsync(gateway);

        Assert.Equal((HttpStatusCode.OK, "real"), (response.Status!.Value, response.Body));
    }

    [Fact]
    public async Task An_upstream_that_never_answers_is_a_504_and_its_connection_is_dropped()
    {
        var first = await PoisonedThenGoodAsync(exchange => Task.Delay(Timeout.Infinite, exchange.Stopping), ("Gateway:Forwarding:ResponseTimeout", "00:00:00.500"));

        Assert.Equal(HttpStatusCode.GatewayTimeout, first.Status);
    }

    [Fact]
    public async Task Bytes_after_a_response_never_become_the_next_visitors_response()
    {
        // A smuggled second response right behind the first: the connection is dropped, not read again.
        var first = await PoisonedThenGoodAsync(exchange => exchange.WriteAsync(RawUpstream.Ok("first") + "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nevil"));

        Assert.Equal((HttpStatusCode.OK, "first"), (first.Status!.Value, first.Body));
    }

    [Fact]
    public async Task Connection_close_from_the_upstream_is_honoured()
    {
        await using var upstream = RawUpstream.Start(exchange => exchange.WriteAsync(RawUpstream.Ok("good", "Connection: close\r\n")));
        await using var gateway = await StartAsync(upstream);

        var first = await SendAsync(gateway);
        var second = await SendAsync(gateway);

        Assert.Equal((HttpStatusCode.OK, "good"), (first.Status!.Value, first.Body));
        Assert.Equal((HttpStatusCode.OK, "good"), (second.Status!.Value, second.Body));
        Assert.Equal(2, upstream.Connections);
    }

    [Fact]
    public async Task An_idle_connection_the_upstream_closed_is_replaced_without_failing_the_hit()
    {
        await using var upstream = RawUpstream.Start(async exchange =>
        {
            await exchange.WriteAsync(RawUpstream.Ok("good"));
            exchange.Close = exchange.Index == 1;
        });
        await using var gateway = await StartAsync(upstream);

        var first = await SendAsync(gateway);
        await WaitUntilAsync(() => upstream.Connections == 1 && upstream.Requests == 1);
        var second = await SendAsync(gateway);

        Assert.Equal((HttpStatusCode.OK, "good"), (first.Status!.Value, first.Body));
        Assert.Equal((HttpStatusCode.OK, "good"), (second.Status!.Value, second.Body));
        Assert.Equal(2, upstream.Connections);
    }

    [Fact]
    public async Task Keep_alive_hits_share_one_connection_and_carry_the_request_as_sent()
    {
        await using var upstream = RawUpstream.Start(exchange => exchange.WriteAsync("HTTP/1.1 204 No Content\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nServer: upstream\r\n\r\n"));
        await using var gateway = await StartAsync(upstream);

        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, Hit) { Content = new StringContent("en=scroll") };
            request.Headers.TryAddWithoutValidation("Cookie", "_ga=GA1.1.1.1; session=secret");
            using var response = await gateway.Public.SendAsync(request);
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
            var cookies = response.Headers.GetValues("Set-Cookie").ToArray();
            Assert.Contains("a=1", cookies);
            Assert.Contains("b=2", cookies);
            Assert.False(response.Headers.Contains("Server"));
        }

        Assert.Equal(1, upstream.Connections);
        Assert.True(upstream.Heads.TryPeek(out var head));
        Assert.StartsWith("POST /metrics/g/collect?v=2&tid=G-TEST1234&en=page_view HTTP/1.1\r\nHost: g-test1234.fps.goog\r\n", head, StringComparison.Ordinal);
        Assert.Contains("\r\nCookie: _ga=GA1.1.1.1\r\n", head, StringComparison.Ordinal);
        Assert.Contains("\r\nContent-Length: 9", head, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", head, StringComparison.Ordinal);
    }

    /// <summary>
    /// The poisoned-connection pattern: the upstream's first exchange runs <paramref name="first"/>, every later one
    /// answers 200 "good". Two hits are sent; the second must be good and on a fresh connection (never the poisoned
    /// one). Returns the first hit's outcome for the test's own assertions.
    /// </summary>
    private static async Task<(HttpStatusCode? Status, string Body, string? SetCookie)> PoisonedThenGoodAsync(Func<RawExchange, Task> first, params (string Key, string Value)[] extra)
    {
        await using var upstream = RawUpstream.Start(exchange => exchange.Index == 1 ? first(exchange) : exchange.WriteAsync(RawUpstream.Ok("good")));
        await using var gateway = await StartAsync(upstream, extra);

        var outcome = await SendAsync(gateway);
        var second = await SendAsync(gateway);

        Assert.Equal((HttpStatusCode.OK, "good"), (second.Status!.Value, second.Body));
        Assert.Equal(2, upstream.Connections);
        return outcome;
    }

    private static async Task<GatewayInstance> StartAsync(RawUpstream upstream, params (string Key, string Value)[] extra)
    {
        var settings = GatewayInstance.Settings(upstream.Origin);
        settings["Gateway:Forwarding:Client"] = "Pipelines";
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return await GatewayInstance.StartAsync(settings);
    }

    /// <summary>The visitor's view: a status and body, or a null status when the connection was aborted.</summary>
    private static async Task<(HttpStatusCode? Status, string Body, string? SetCookie)> SendAsync(GatewayInstance gateway)
    {
        try
        {
            using var response = await gateway.Public.GetAsync(Hit);
            var body = await response.Content.ReadAsStringAsync();
            var cookie = response.Headers.TryGetValues("Set-Cookie", out var values) ? string.Join("|", values) : null;
            return (response.StatusCode, body, cookie);
        }
        catch (HttpRequestException)
        {
            return (null, string.Empty, null);
        }
    }

    private static void AssertRefusedOrAborted((HttpStatusCode? Status, string Body, string? SetCookie) outcome)
    {
        Assert.True(outcome.Status is null or HttpStatusCode.BadGateway or HttpStatusCode.GatewayTimeout, $"got {outcome.Status} '{outcome.Body}'");
        Assert.DoesNotContain("evil", outcome.Body, StringComparison.Ordinal);
    }

    /// <summary>Waits for the fake to see what the gateway already did (the order of events, not a duration).</summary>
    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }
    }
}
