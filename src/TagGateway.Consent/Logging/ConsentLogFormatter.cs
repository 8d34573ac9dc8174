using System.Buffers;
using System.Text.Json;
using TagGateway.Consent.Policy;
using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Logging;

/// <summary>
/// Writes one audit-log entry as a single compact JSON line with Utf8JsonWriter (no reflection). Schema:
/// <c>{"time","tag","client","region","event","profile","gpc","signals":{…},"consent":{type:{effective,source,denial,default,update,gcs}},
/// "destinations":{name:{outcome,send,identifiers,user_data,restricted}}}</c>. The client is the salted hash; no IP is ever written.
/// </summary>
internal sealed class ConsentLogFormatter : IDisposable
{
    private static readonly JsonWriterOptions WriterOptions = new() { Indented = false };

    private readonly ArrayBufferWriter<byte> _buffer = new(2048);
    private readonly Utf8JsonWriter _writer;

    public ConsentLogFormatter()
    {
        _writer = new Utf8JsonWriter(_buffer, WriterOptions);
    }

    /// <summary>Formats the entry, newline included; the span is valid until the next call.</summary>
    public ReadOnlySpan<byte> Format(in ConsentLogEntry entry)
    {
        _buffer.ResetWrittenCount();
        _writer.Reset(_buffer);
        Write(_writer, entry);
        _writer.Flush();
        _buffer.Write("\n"u8);
        return _buffer.WrittenSpan;
    }

    public void Dispose() => _writer.Dispose();

    internal static void Write(Utf8JsonWriter writer, in ConsentLogEntry entry)
    {
        var decision = entry.Decision;
        var signals = decision.Signals;

        writer.WriteStartObject();
        writer.WriteString("time"u8, entry.Time.UtcDateTime);
        WriteOptional(writer, "tag"u8, entry.TagId);
        WriteOptional(writer, "client"u8, entry.ClientHash);
        WriteOptional(writer, "region"u8, entry.Region);
        WriteOptional(writer, "event"u8, entry.EventName);
        writer.WriteString("profile"u8, ConsentNames.Of(decision.RegionProfile));
        writer.WriteBoolean("gpc"u8, signals.GlobalPrivacyControl);

        writer.WriteStartObject("signals"u8);
        writer.WriteString("gcs"u8, ConsentNames.Of(signals.Gcs));
        writer.WriteString("gcd"u8, ConsentNames.Of(signals.Gcd));
        writer.WriteString("npa"u8, ConsentNames.Of(signals.NonPersonalizedAds));
        writer.WriteString("dma"u8, ConsentNames.Of(signals.DmaApplies));
        writer.WriteBoolean("dma_cps"u8, signals.HasDmaPurposes);
        writer.WriteBoolean("gcu"u8, signals.ConsentUpdated);
        writer.WriteString("gdpr"u8, ConsentNames.Of(signals.GdprApplies));
        writer.WriteString("gdpr_consent"u8, ConsentNames.Of(signals.TcfConsent));
        writer.WriteString("gpp"u8, ConsentNames.Of(signals.Gpp));
        writer.WriteString("gpp_sid"u8, ConsentNames.Of(signals.GppSectionIds));
        writer.WriteEndObject();

        writer.WriteStartObject("consent"u8);
        foreach (var type in ConsentNames.Types)
        {
            var signal = signals.Get(type);
            var resolution = decision.Consent.Get(type);
            writer.WriteStartObject(ConsentNames.Of(type));
            writer.WriteString("effective"u8, ConsentNames.Of(resolution.State));
            writer.WriteString("source"u8, ConsentNames.Of(resolution.Source));
            writer.WriteString("denial"u8, ConsentNames.Of(resolution.Denial));
            writer.WriteString("default"u8, ConsentNames.Of(signal.Default));
            writer.WriteString("update"u8, ConsentNames.Of(signal.Update));
            writer.WriteString("gcs"u8, ConsentNames.Of(signal.Gcs));
            writer.WriteEndObject();
        }

        writer.WriteEndObject();

        writer.WriteStartObject("destinations"u8);
        for (var i = 0; i < decision.DestinationCount; i++)
        {
            var destination = decision.For((ConsentDestination)i);
            writer.WriteStartObject(destination.Name ?? "unknown");
            writer.WriteString("outcome"u8, ConsentNames.Of(destination.Outcome));
            writer.WriteBoolean("send"u8, destination.MaySend);
            writer.WriteBoolean("identifiers"u8, destination.MayUseIdentifiers);
            writer.WriteBoolean("user_data"u8, destination.MayAttachUserData);
            writer.WriteString("restricted"u8, ConsentNames.Of(destination.RestrictedForm));
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteOptional(Utf8JsonWriter writer, ReadOnlySpan<byte> name, string? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            writer.WriteString(name, value);
        }
    }
}
