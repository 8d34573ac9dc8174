using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Policy;

/// <summary>
/// One row of the consent matrix: the consent types each capability of a destination needs (all must be granted).
/// </summary>
/// <param name="Name">Destination name as used in configuration, logs and metrics.</param>
/// <param name="SendRequires">Needed to send the event at all.</param>
/// <param name="IdentifiersRequire">Needed to read or write identifier cookies and forward client/user ids.</param>
/// <param name="UserDataRequires">Needed to attach user data: hashed PII, click ids, IP, user agent.</param>
/// <param name="WhenPersonalizationDenied">What ad_personalization denied does.</param>
/// <param name="RestrictedForm">The restricted form used when <paramref name="WhenPersonalizationDenied"/> is Restrict.</param>
/// <param name="BlockOnGpc">Sec-GPC: 1 stops sending altogether (it is an opt-out of sale/sharing).</param>
/// <param name="Enabled">False switches the destination off entirely.</param>
internal sealed record DestinationRule(
    string Name,
    ConsentTypes SendRequires,
    ConsentTypes IdentifiersRequire,
    ConsentTypes UserDataRequires,
    PersonalizationDeniedAction WhenPersonalizationDenied,
    RestrictedForm RestrictedForm,
    bool BlockOnGpc,
    bool Enabled = true)
{
    /// <summary>Evaluates this row for one event's effective consent. Pure; the decision bits are in <see cref="DestinationBits"/>.</summary>
    public DestinationBits Evaluate(ConsentTypes granted, bool globalPrivacyControl)
    {
        var personalizationDenied = (granted & ConsentTypes.AdPersonalization) == 0;
        var send = Enabled
            && !(BlockOnGpc && globalPrivacyControl)
            && (granted & SendRequires) == SendRequires
            && !(personalizationDenied && WhenPersonalizationDenied == PersonalizationDeniedAction.Block);
        if (!send)
        {
            return DestinationBits.None;
        }

        var bits = DestinationBits.Send;
        if ((granted & IdentifiersRequire) == IdentifiersRequire)
        {
            bits |= DestinationBits.Identifiers;
        }

        if ((granted & UserDataRequires) == UserDataRequires)
        {
            bits |= DestinationBits.UserData;
        }

        if (personalizationDenied && WhenPersonalizationDenied == PersonalizationDeniedAction.Restrict)
        {
            bits |= DestinationBits.Restricted;
        }

        return bits;
    }
}

[Flags]
internal enum DestinationBits
{
    None = 0,
    Send = 1,
    Identifiers = 2,
    UserData = 4,
    Restricted = 8,

    // Set by the decision, not by Evaluate: identifiers denied by an explicit update.
    IdentifiersWithdrawn = 16,
}
