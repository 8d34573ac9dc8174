using BenchmarkDotNet.Running;
using TagGateway.Benchmarks.Routing;
using TagGateway.Benchmarks.Scripts;

// Every suite in this assembly; pick with --filter, e.g. --filter '*HitForwarding*'. "cache-busting-cpu" runs the
// quick loop that counts a cache-busting script request's CPU, background compression included.
if (args is ["cache-busting-cpu", ..])
{
    return await CacheBustingCpu.RunAsync(args);
}

BenchmarkSwitcher.FromAssembly(typeof(RouteMatchBenchmarks).Assembly).Run(args);
return 0;
