using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace TagGateway.CommandLine.Doctor;

/// <summary>Green: works. Amber: not verified, or works but could be better. Red: broken, with the fix.</summary>
internal enum CheckStatus
{
    [JsonStringEnumMemberName("green")]
    Green,

    [JsonStringEnumMemberName("amber")]
    Amber,

    [JsonStringEnumMemberName("red")]
    Red,
}

/// <summary>One line of the doctor's report.</summary>
/// <param name="Id">A stable name (scripts match on it): tls, health, loader, test-hit, cookie, edge, geolocation, safari.</param>
/// <param name="Saw">What the doctor saw.</param>
/// <param name="Fix">What to change; null when green.</param>
internal sealed record DoctorCheck(string Id, CheckStatus Status, string Saw, string? Fix = null);

internal sealed record DoctorReport(string Site, string MeasurementUrl, IReadOnlyList<DoctorCheck> Checks)
{
    public int ExitCode => Checks.Any(static c => c.Status == CheckStatus.Red) ? 1 : 0;

    public string ToText()
    {
        var text = new StringBuilder();
        text.Append("TagGateway doctor: ").Append(Site).Append(" (measurement path ").Append(MeasurementUrl).AppendLine(")");
        foreach (var check in Checks)
        {
            var marker = check.Status switch
            {
                CheckStatus.Green => "[green]",
                CheckStatus.Amber => "[amber]",
                _ => "[red]  ",
            };
            text.Append(marker).Append(' ').Append(check.Id.PadRight(12)).Append(check.Saw);
            if (check.Fix is not null)
            {
                text.Append(" | fix: ").Append(check.Fix);
            }

            text.AppendLine();
        }

        var red = Checks.Count(static c => c.Status == CheckStatus.Red);
        var amber = Checks.Count(static c => c.Status == CheckStatus.Amber);
        text.Append(red == 0 && amber == 0 ? "All green." : $"{red} red, {amber} amber.");
        return text.ToString();
    }

    public string ToJson() => JsonSerializer.Serialize(this, DoctorJsonContext.Default.DoctorReport);
}

/// <summary>The doctor's <c>--json</c> output, serialized by generated code.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, UseStringEnumConverter = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(DoctorReport))]
internal sealed partial class DoctorJsonContext : JsonSerializerContext;
