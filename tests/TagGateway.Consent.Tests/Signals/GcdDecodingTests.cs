using TagGateway.Consent.Signals;

namespace TagGateway.Consent.Tests.Signals;

public class GcdDecodingTests
{
    private static readonly ConsentType[] AllTypes = [ConsentType.AdStorage, ConsentType.AnalyticsStorage, ConsentType.AdUserData, ConsentType.AdPersonalization];

    // Reference §3.2 letter table: letter, default, update, effective.
    public static TheoryData<char, ConsentState, ConsentState, ConsentState> LetterTable => new()
    {
        { 'l', ConsentState.Unknown, ConsentState.Unknown, ConsentState.Unknown },
        { 'm', ConsentState.Unknown, ConsentState.Denied, ConsentState.Denied },
        { 'n', ConsentState.Unknown, ConsentState.Granted, ConsentState.Granted },
        { 'p', ConsentState.Denied, ConsentState.Unknown, ConsentState.Denied },
        { 'q', ConsentState.Denied, ConsentState.Denied, ConsentState.Denied },
        { 'r', ConsentState.Denied, ConsentState.Granted, ConsentState.Granted },
        { 't', ConsentState.Granted, ConsentState.Unknown, ConsentState.Granted },
        { 'u', ConsentState.Granted, ConsentState.Denied, ConsentState.Denied },
        { 'v', ConsentState.Granted, ConsentState.Granted, ConsentState.Granted },
    };

    [Theory]
    [MemberData(nameof(LetterTable))]
    public void Every_letter_of_the_reference_table_decodes_in_every_position(char letter, ConsentState expectedDefault, ConsentState expectedUpdate, ConsentState expectedEffective)
    {
        for (var position = 0; position < 4; position++)
        {
            // The letter under test at one position, 'l' (not set) elsewhere, so positions cannot bleed into each other.
            var gcd = "13l3l3l3l1".ToCharArray();
            gcd[2 + (2 * position)] = letter;
            var signals = ConsentSignals.FromQuery($"gcd={new string(gcd)}", globalPrivacyControl: false);

            Assert.Equal(SignalPresence.WellFormed, signals.Gcd);
            for (var type = 0; type < 4; type++)
            {
                var signal = signals.Get((ConsentType)type);
                Assert.False(signal.GcdUnreadable);
                if (type == position)
                {
                    Assert.Equal(expectedDefault, signal.Default);
                    Assert.Equal(expectedUpdate, signal.Update);
                    Assert.Equal(expectedEffective, signal.GcdEffective);
                }
                else
                {
                    Assert.Equal(ConsentState.Unknown, signal.Default);
                    Assert.Equal(ConsentState.Unknown, signal.Update);
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(LetterTable))]
    public void The_encoder_from_the_reference_produces_the_table_letters(char letter, ConsentState expectedDefault, ConsentState expectedUpdate, ConsentState _)
    {
        Assert.Equal(letter, Gcd.Letter(expectedDefault, expectedUpdate));
    }

    [Fact]
    public void All_types_not_set()
    {
        var signals = ConsentSignals.FromQuery("gcd=13l3l3l3l1", false);

        Assert.Equal(SignalPresence.WellFormed, signals.Gcd);
        foreach (var type in AllTypes)
        {
            Assert.Equal(ConsentState.Unknown, signals.Get(type).Default);
            Assert.Equal(ConsentState.Unknown, signals.Get(type).Update);
            Assert.Equal(ConsentState.Unknown, signals.Get(type).GcdEffective);
        }
    }

    [Fact]
    public void All_denied_by_default_with_extra_trailing_pair()
    {
        // 13p3p3p2p5l1: a '2' implicit digit and a trailing l1 pair must not disturb the four letters.
        var signals = ConsentSignals.FromQuery("gcd=13p3p3p2p5l1", false);

        Assert.Equal(SignalPresence.WellFormed, signals.Gcd);
        foreach (var type in AllTypes)
        {
            Assert.Equal(ConsentState.Denied, signals.Get(type).Default);
            Assert.Equal(ConsentState.Unknown, signals.Get(type).Update);
            Assert.Equal(ConsentState.Denied, signals.Get(type).GcdEffective);
        }
    }

    [Fact]
    public void Denied_by_default_then_granted_by_update()
    {
        var signals = ConsentSignals.FromQuery("gcd=13r3r3r3r5", false);

        foreach (var type in AllTypes)
        {
            Assert.Equal(ConsentState.Denied, signals.Get(type).Default);
            Assert.Equal(ConsentState.Granted, signals.Get(type).Update);
            Assert.Equal(ConsentState.Granted, signals.Get(type).GcdEffective);
        }
    }

    [Fact]
    public void All_denied_by_default_no_update()
    {
        var signals = ConsentSignals.FromQuery("gcd=11p1p1p1p5", false);

        foreach (var type in AllTypes)
        {
            Assert.Equal(ConsentState.Denied, signals.Get(type).Default);
            Assert.Equal(ConsentState.Unknown, signals.Get(type).Update);
        }
    }

    [Fact]
    public void Mixed_letters_map_to_their_own_types()
    {
        // ad_storage granted by update, analytics denied by update, ad_user_data granted by default, ad_personalization denied by default.
        var signals = ConsentSignals.FromQuery("gcd=13n3m3t3p5", false);

        Assert.Equal(ConsentState.Granted, signals.AdStorage.GcdEffective);
        Assert.Equal(ConsentState.Denied, signals.AnalyticsStorage.GcdEffective);
        Assert.Equal(ConsentState.Granted, signals.AdUserData.GcdEffective);
        Assert.Equal(ConsentState.Denied, signals.AdPersonalization.GcdEffective);
    }

    [Theory]
    [InlineData('0')]
    [InlineData('9')]
    [InlineData('a')]
    [InlineData('b')]
    [InlineData('e')] // pairs like 'u' apart from bit 4
    [InlineData('f')] // pairs like 'v' (granted/granted) apart from bit 4: must not read as granted
    [InlineData('g')] // g h i j k o s: a half is 0 ("undefined"), which the encoder never emits
    [InlineData('h')]
    [InlineData('i')]
    [InlineData('j')] // would read as "update granted" by the bare algorithm
    [InlineData('k')]
    [InlineData('o')]
    [InlineData('s')] // would read as "default granted" by the bare algorithm
    [InlineData('w')]
    [InlineData('z')]
    [InlineData('A')]
    [InlineData('R')] // live traffic: gcd=13l3l3R3l5l1 on sites without consent mode
    [InlineData('Z')]
    [InlineData('-')]
    [InlineData('_')]
    public void Letters_outside_the_documented_nine_read_as_not_set_and_keep_the_letter(char letter)
    {
        var signals = ConsentSignals.FromQuery($"gcd=13{letter}3{letter}3{letter}3{letter}5", false);

        Assert.Equal(SignalPresence.WellFormed, signals.Gcd);
        Assert.True(signals.HasUnknownGcdLetter);
        foreach (var type in AllTypes)
        {
            var signal = signals.Get(type);
            Assert.Equal(ConsentState.Unknown, signal.Default);
            Assert.Equal(ConsentState.Unknown, signal.Update);
            Assert.False(signal.GcdUnreadable);
            Assert.Equal(letter, signal.UnknownGcdLetter);
        }
    }

    [Fact]
    public void An_undocumented_letter_leaves_the_rest_of_the_string_read()
    {
        // The live shape: R for ad_user_data, l (not set) elsewhere; and a mixed one with documented letters around it.
        var live = ConsentSignals.FromQuery("gcd=13l3l3R3l5l1&gcs=G1--", false);
        var mixed = ConsentSignals.FromQuery("gcd=13q3R3v3p5", false);

        Assert.Equal('R', live.AdUserData.UnknownGcdLetter);
        Assert.Equal('\0', live.AdStorage.UnknownGcdLetter);
        Assert.Equal('\0', live.AdPersonalization.UnknownGcdLetter);

        Assert.Equal(ConsentState.Denied, mixed.AdStorage.Update);
        Assert.Equal('R', mixed.AnalyticsStorage.UnknownGcdLetter);
        Assert.Equal(ConsentState.Unknown, mixed.AnalyticsStorage.GcdEffective);
        Assert.Equal(ConsentState.Granted, mixed.AdUserData.Update);
        Assert.Equal(ConsentState.Denied, mixed.AdPersonalization.Default);
    }

    [Fact]
    public void A_later_gcd_replaces_the_unknown_letters_of_an_earlier_one()
    {
        var url = ConsentSignals.FromQuery("gcd=13R3l3l3l5", false);

        var line = url.WithOverrides("en=purchase&gcd=13v3v3v3v5"u8);

        Assert.True(url.HasUnknownGcdLetter);
        Assert.False(line.HasUnknownGcdLetter);
        Assert.Equal(ConsentState.Granted, line.AdStorage.GcdEffective);
    }

    [Fact]
    public void Only_letters_n_r_t_u_v_carry_a_granted_state()
    {
        for (var c = 0; c < 0x10000; c++)
        {
            var letter = (char)c;
            if (char.IsSurrogate(letter))
            {
                continue;
            }

            var query = "gcd=13" + letter + "3l3l3l1";
            var signals = ConsentSignals.FromQuery(query, false);
            var granted = signals.AdStorage.Default == ConsentState.Granted || signals.AdStorage.Update == ConsentState.Granted;
            Assert.Equal(letter is 'n' or 'r' or 't' or 'u' or 'v', granted);
        }
    }

    [Fact]
    public void Exactly_the_nine_documented_letters_are_read_and_every_other_is_kept_as_unknown()
    {
        string read = new(Gcd.Alphabet.Where(letter =>
            ConsentSignals.FromQuery($"gcd=13{letter}3l3l3l1", false).AdStorage.UnknownGcdLetter == '\0').ToArray());

        Assert.Equal("lmnpqrtuv", read);
    }
}
