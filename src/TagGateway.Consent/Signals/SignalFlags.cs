namespace TagGateway.Consent.Signals;

/// <summary>Presence and value bits of the non-letter signals, packed so ConsentSignals stays two words.</summary>
[Flags]
internal enum SignalFlags : uint
{
    None = 0,
    Gpc = 1u << 0,
    GcsPresent = 1u << 1,
    GcsMalformed = 1u << 2,
    GcdPresent = 1u << 3,
    GcdMalformed = 1u << 4,
    NpaPresent = 1u << 5,
    NpaSet = 1u << 6,
    NpaMalformed = 1u << 7,
    DmaPresent = 1u << 8,
    DmaSet = 1u << 9,
    DmaMalformed = 1u << 10,
    DmaCpsPresent = 1u << 11,
    GcuPresent = 1u << 12,
    GcutPresent = 1u << 13,
    GdprPresent = 1u << 14,
    GdprSet = 1u << 15,
    GdprMalformed = 1u << 16,
    TcfPresent = 1u << 17,
    TcfMalformed = 1u << 18,
    GppPresent = 1u << 19,
    GppMalformed = 1u << 20,
    GppSidPresent = 1u << 21,
    GppSidMalformed = 1u << 22,

    // One family per parameter: a later occurrence (or a body line) replaces the whole family.
    GcsFamily = GcsPresent | GcsMalformed,
    GcdFamily = GcdPresent | GcdMalformed,
    NpaFamily = NpaPresent | NpaSet | NpaMalformed,
    DmaFamily = DmaPresent | DmaSet | DmaMalformed,
    GdprFamily = GdprPresent | GdprSet | GdprMalformed,
    TcfFamily = TcfPresent | TcfMalformed,
    GppFamily = GppPresent | GppMalformed,
    GppSidFamily = GppSidPresent | GppSidMalformed,
}
