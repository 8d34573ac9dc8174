using BenchmarkDotNet.Running;
using TagGateway.Benchmarks.Routing;

// Every suite in this assembly; pick with --filter, e.g. --filter '*HitForwarding*'.
BenchmarkSwitcher.FromAssembly(typeof(RouteMatchBenchmarks).Assembly).Run(args);
