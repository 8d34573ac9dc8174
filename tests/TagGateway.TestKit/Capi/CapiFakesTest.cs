namespace TagGateway.TestKit.Capi;

/// <summary>
/// A test class against the platform fakes: <see cref="Fake"/> (and, when asked for, the Measurement Protocol fake
/// <see cref="Mp"/>) started before each test, and a journal folder of its own removed after it.
/// </summary>
public abstract class CapiFakesTest : IAsyncLifetime
{
    private readonly bool _measurementProtocol;

    protected CapiFakesTest(bool measurementProtocol = false) => _measurementProtocol = measurementProtocol;

    protected FakePlatforms Fake { get; private set; } = null!;

    /// <summary>Null unless the test class asked for it.</summary>
    protected FakeMeasurementProtocol Mp { get; private set; } = null!;

    protected TempStoreDirectory Store { get; } = new();

    public virtual async Task InitializeAsync()
    {
        Fake = await FakePlatforms.StartAsync();
        if (_measurementProtocol)
        {
            Mp = await FakeMeasurementProtocol.StartAsync();
        }
    }

    public virtual async Task DisposeAsync()
    {
        if (Mp is not null)
        {
            await Mp.DisposeAsync();
        }

        await Fake.DisposeAsync();
        Store.Dispose();
    }
}
