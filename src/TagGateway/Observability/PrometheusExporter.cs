using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace TagGateway.Observability;

/// <summary>
/// Aggregates every <c>TagGateway*</c> meter of this host (and the runtime's) and renders it in the Prometheus text format for the
/// management listener. A measurement finds its series through a struct key of tag values, so recording
/// allocates nothing once a series exists.
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    private static readonly double[] DefaultBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>
    /// The runtime's meter: the GC heap by generation, committed memory, collections, pause time, working set. Under
    /// CAPI load RSS runs at two to three times the live heap (bench/README.md); these series show that split.
    /// </summary>
    internal const string RuntimeMeterName = "System.Runtime";

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, InstrumentSeries> _instruments = new();

    public PrometheusExporter(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            // A MeterListener sees every meter in the process: only this host's (its factory's) are its to report, so
            // two hosts in one process (tests) never read each other's series.
            // The runtime's own meter (GC heap, collections, working set) is process-wide, the same for every host.
            if ((instrument.Meter.Name.StartsWith(GatewayMetrics.MeterName, StringComparison.Ordinal) && ReferenceEquals(instrument.Meter.Scope, meterFactory))
                || instrument.Meter.Name == RuntimeMeterName)
            {
                // The series set rides along as the listener's state: a measurement goes straight to it, no lookup.
                var series = _instruments.GetOrAdd(instrument, static i => new InstrumentSeries(i));
                listener.EnableMeasurementEvents(instrument, series);
            }
        };
        _listener.MeasurementsCompleted = (instrument, _) => _instruments.TryRemove(instrument, out var _);
        _listener.SetMeasurementEventCallback<long>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<int>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>(static (_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>The current values of every series, in the Prometheus text exposition format (0.0.4).</summary>
    public string Render()
    {
        _listener.RecordObservableInstruments();
        var text = new StringBuilder(4096);
        foreach (var series in _instruments.Values.OrderBy(static s => s.Name, StringComparer.Ordinal))
        {
            series.Render(text);
        }

        return text.ToString();
    }

    /// <summary>
    /// The gateway's values of <see cref="Render"/>, one per series (a histogram gives its <c>_count</c> and <c>_sum</c>),
    /// for the signal-health report: its numbers are the counters, never a second count that could drift from them.
    /// The runtime's series are left out: they describe the process, not the signal, and move between two reads.
    /// </summary>
    public List<MetricSample> Samples()
    {
        _listener.RecordObservableInstruments();
        var samples = new List<MetricSample>();
        foreach (var series in _instruments.Values.Where(static s => !s.IsRuntime).OrderBy(static s => s.Name, StringComparer.Ordinal))
        {
            series.AddSamples(samples);
        }

        return samples;
    }

    public void Dispose() => _listener.Dispose();

    private sealed class InstrumentSeries
    {
        private readonly Instrument _instrument;
        private readonly ConcurrentDictionary<TagKey, Series> _series = new();
        private readonly bool _histogram;
        private readonly bool _cumulative;
        private readonly bool _observable;

        public InstrumentSeries(Instrument instrument)
        {
            _instrument = instrument;
            _histogram = instrument is Histogram<double> or Histogram<long> or Histogram<int>;
            _observable = instrument.IsObservable;
            _cumulative = !_histogram && (instrument is Counter<long> or Counter<int> or Counter<double> or ObservableCounter<long> or ObservableCounter<int> or ObservableCounter<double>);
            Name = PrometheusName(instrument, _cumulative);
            IsRuntime = instrument.Meter.Name == RuntimeMeterName;
        }

        public string Name { get; }

        /// <summary>A series of the runtime's meter (process-wide), not of this gateway's.</summary>
        public bool IsRuntime { get; }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var key = TagKey.From(tags);
            var series = _series.GetOrAdd(key, static (k, histogram) => new Series(k, histogram), _histogram);
            if (_histogram)
            {
                series.Observe(value, DefaultBuckets);
            }
            else if (_observable || !_cumulative)
            {
                series.Set(value);
            }
            else
            {
                series.Add(value);
            }
        }

        public void Render(StringBuilder text)
        {
            if (_series.IsEmpty)
            {
                return;
            }

            if (!string.IsNullOrEmpty(_instrument.Description))
            {
                text.Append("# HELP ").Append(Name).Append(' ').Append(_instrument.Description).Append('\n');
            }

            text.Append("# TYPE ").Append(Name).Append(' ').Append(_histogram ? "histogram" : _cumulative ? "counter" : "gauge").Append('\n');
            foreach (var series in _series.Values)
            {
                if (_histogram)
                {
                    series.RenderHistogram(text, Name, DefaultBuckets);
                }
                else
                {
                    text.Append(Name);
                    series.Key.Render(text, null, null);
                    text.Append(' ').Append(Format(series.Value)).Append('\n');
                }
            }
        }

        public void AddSamples(List<MetricSample> samples)
        {
            var labels = new StringBuilder();
            foreach (var series in _series.Values)
            {
                labels.Clear();
                series.Key.Render(labels, null, null);
                if (_histogram)
                {
                    samples.Add(new MetricSample(Name + "_count", labels.ToString(), series.Count));
                    samples.Add(new MetricSample(Name + "_sum", labels.ToString(), series.Value));
                }
                else
                {
                    samples.Add(new MetricSample(Name, labels.ToString(), series.Value));
                }
            }
        }

        private static string PrometheusName(Instrument instrument, bool counter)
        {
            var name = new StringBuilder(instrument.Name.Length + 16);
            foreach (var c in instrument.Name)
            {
                name.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
            }

            if (instrument.Unit is "s")
            {
                name.Append("_seconds");
            }
            else if (instrument.Unit is "By")
            {
                name.Append("_bytes");
            }

            if (counter)
            {
                name.Append("_total");
            }

            return name.ToString();
        }
    }

    private sealed class Series(TagKey key, bool histogram)
    {
        private readonly long[] _buckets = histogram ? new long[DefaultBuckets.Length + 1] : [];
        private double _value;
        private long _count;

        public TagKey Key { get; } = key;

        public double Value => Volatile.Read(ref _value);

        public long Count => Volatile.Read(ref _count);

        public void Add(double value)
        {
            double current, updated;
            do
            {
                current = Volatile.Read(ref _value);
                updated = current + value;
            }
            while (Interlocked.CompareExchange(ref _value, updated, current) != current);
        }

        public void Set(double value) => Volatile.Write(ref _value, value);

        public void Observe(double value, double[] bounds)
        {
            var i = 0;
            while (i < bounds.Length && value > bounds[i])
            {
                i++;
            }

            Interlocked.Increment(ref _buckets[i]);
            Interlocked.Increment(ref _count);
            Add(value);
        }

        public void RenderHistogram(StringBuilder text, string name, double[] bounds)
        {
            long cumulative = 0;
            for (var i = 0; i <= bounds.Length; i++)
            {
                cumulative += Volatile.Read(ref _buckets[i]);
                text.Append(name).Append("_bucket");
                Key.Render(text, "le", i < bounds.Length ? Format(bounds[i]) : "+Inf");
                text.Append(' ').Append(cumulative).Append('\n');
            }

            text.Append(name).Append("_sum");
            Key.Render(text, null, null);
            text.Append(' ').Append(Format(Value)).Append('\n');
            text.Append(name).Append("_count");
            Key.Render(text, null, null);
            text.Append(' ').Append(Volatile.Read(ref _count)).Append('\n');
        }
    }

    private static string Format(double value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Up to four tags compared by value; instruments here use constant strings, so lookups allocate nothing.</summary>
    private readonly record struct TagKey(string? K0, string? V0, string? K1, string? V1, string? K2, string? V2, string? K3, string? V3)
    {
        // Tag names and most values are literals, so equality is usually by reference. The hash reads a string's length
        // and three characters instead of hashing it whole (Marvin took ~1.5% of a forwarded hit's CPU): the sets are
        // small and closed, and a collision costs one ordinal compare.
        public bool Equals(TagKey other) =>
            Same(K0, other.K0) && Same(V0, other.V0) && Same(K1, other.K1) && Same(V1, other.V1)
            && Same(K2, other.K2) && Same(V2, other.V2) && Same(K3, other.K3) && Same(V3, other.V3);

        public override int GetHashCode() =>
            HashCode.Combine(Cheap(K0), Cheap(V0), Cheap(K1), Cheap(V1), Cheap(K2), Cheap(V2), Cheap(K3), Cheap(V3));

        private static bool Same(string? a, string? b) => ReferenceEquals(a, b) || string.Equals(a, b, StringComparison.Ordinal);

        private static int Cheap(string? s) => s is null || s.Length == 0 ? 0 : (s.Length << 21) ^ (s[0] << 14) ^ (s[s.Length / 2] << 7) ^ s[^1];

        public static TagKey From(ReadOnlySpan<KeyValuePair<string, object?>> tags) => new(
            KeyAt(tags, 0), ValueAt(tags, 0), KeyAt(tags, 1), ValueAt(tags, 1), KeyAt(tags, 2), ValueAt(tags, 2), KeyAt(tags, 3), ValueAt(tags, 3));

        private static string? KeyAt(ReadOnlySpan<KeyValuePair<string, object?>> tags, int i) => i < tags.Length ? tags[i].Key : null;

        private static string? ValueAt(ReadOnlySpan<KeyValuePair<string, object?>> tags, int i) =>
            i < tags.Length ? tags[i].Value as string ?? tags[i].Value?.ToString() : null;

        public void Render(StringBuilder text, string? extraKey, string? extraValue)
        {
            if (K0 is null && extraKey is null)
            {
                return;
            }

            text.Append('{');
            var first = true;
            Pair(text, K0, V0, ref first);
            Pair(text, K1, V1, ref first);
            Pair(text, K2, V2, ref first);
            Pair(text, K3, V3, ref first);
            Pair(text, extraKey, extraValue, ref first);
            text.Append('}');
        }

        private static void Pair(StringBuilder text, string? key, string? value, ref bool first)
        {
            if (key is null)
            {
                return;
            }

            if (!first)
            {
                text.Append(',');
            }

            first = false;
            foreach (var c in key)
            {
                text.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
            }

            text.Append("=\"");
            foreach (var c in value ?? string.Empty)
            {
                _ = c switch
                {
                    '\\' => text.Append("\\\\"),
                    '"' => text.Append("\\\""),
                    '\n' => text.Append("\\n"),
                    _ => text.Append(c),
                };
            }

            text.Append('"');
        }
    }
}

/// <summary>One series' value: its Prometheus name, its labels as the exposition renders them (<c>{k="v"}</c> or empty).</summary>
internal sealed record MetricSample(string Name, string Labels, double Value);
