using System.Diagnostics.Metrics;

namespace TagGateway.Cookies.Issuing;

/// <summary>Counters on the <c>TagGateway.Cookies</c> meter.</summary>
internal sealed class CookieMetrics
{
    public const string MeterName = "TagGateway.Cookies";

    private readonly Counter<long> _written;
    private readonly Counter<long> _rejected;

    public CookieMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _written = meter.CreateCounter<long>("taggateway.cookies.written", "{cookie}", "Set-Cookie headers written, by cookie rule and action (refresh, copy, restore, mint, click_id, expire, marker).");
        _rejected = meter.CreateCounter<long>("taggateway.cookies.rejected", "{cookie}", "Cookie values that failed their format check and were not echoed, by cookie rule.");
    }

    public void Written(string cookie, string action) =>
        _written.Add(1, new KeyValuePair<string, object?>("cookie", cookie), new KeyValuePair<string, object?>("action", action));

    public void Rejected(string cookie) => _rejected.Add(1, new KeyValuePair<string, object?>("cookie", cookie));
}
