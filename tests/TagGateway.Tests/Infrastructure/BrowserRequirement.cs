namespace TagGateway.Tests.Infrastructure;

/// <summary>
/// Where the browser scripts live (tests/browser) and whether Chromium and their node packages are there: the browser
/// tests skip without them, unless TAGGATEWAY_REQUIRE_BROWSER=1 (CI), where a missing browser fails instead.
/// </summary>
internal static class BrowserRequirement
{
    public static readonly string Directory = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../browser"));

    public static void Require()
    {
        var required = Environment.GetEnvironmentVariable("TAGGATEWAY_REQUIRE_BROWSER") == "1";
        var chromium = Environment.GetEnvironmentVariable("CHROMIUM_PATH") ?? "/usr/bin/chromium";
        var installed = File.Exists(chromium) && System.IO.Directory.Exists(Path.Combine(Directory, "node_modules", "playwright-core"));
        if (!installed && required)
        {
            Assert.Fail($"Chromium ({chromium}) or {Directory}/node_modules is missing: .ci/run installs both.");
        }

        Skip.IfNot(installed, "Chromium and tests/browser/node_modules are not installed (apt-get install chromium; npm ci --prefix tests/browser).");
    }
}
