#!/usr/bin/env bash
# The BenchmarkDotNet suites for the per-request code paths (bench/TagGateway.Benchmarks), in one command:
#   bash bench/load/bdn.sh [--filter PATTERN] [--job short|medium|default] [--from-head] [--results DIR]
# Runs them from a snapshot of the working tree (bin/obj excluded, so a build in the tree cannot interfere) and
# copies the GitHub-markdown reports to bench/results/benchmarkdotnet/, with the machine and load average.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
FILTER='*' JOB=short FROM_HEAD=0 RESULTS="$REPO/bench/results/benchmarkdotnet"
COMMAND="bash bench/load/bdn.sh $*"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --filter) FILTER="$2"; shift 2 ;;
    --job) JOB="$2"; shift 2 ;;
    --from-head) FROM_HEAD=1; shift ;;
    --results) RESULTS="$(realpath -m "$2")"; shift 2 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done

WORK="$(mktemp -d /tmp/tg-bdn.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
if [[ "$FROM_HEAD" == 1 ]]; then
  git -C "$REPO" archive HEAD src bench/TagGateway.Benchmarks Directory.Build.props Directory.Packages.props global.json .editorconfig | tar -x -C "$WORK"
else
  tar -C "$REPO" --exclude=bin --exclude=obj --exclude=BenchmarkDotNet.Artifacts \
    -c src bench/TagGateway.Benchmarks Directory.Build.props Directory.Packages.props global.json .editorconfig | tar -x -C "$WORK"
fi
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
(cd "$WORK" && dotnet run -c Release --project bench/TagGateway.Benchmarks -- --filter "$FILTER" --job "$JOB" --buildTimeout 1200 \
  --exporters markdown --artifacts "$WORK/artifacts" 2>&1 | tee "$WORK/bdn.log" | grep -E '^\| |^// \* Summary|Run time|Global total' || true)
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

shopt -s nullglob
reports=("$WORK"/artifacts/results/*-report-github.md)
[[ ${#reports[@]} -gt 0 ]] || { echo "no BenchmarkDotNet report was written; see the log:" >&2; tail -40 "$WORK/bdn.log" >&2; exit 1; }
mkdir -p "$RESULTS"
rm -f "$RESULTS"/*-report-github.md
cp "${reports[@]}" "$RESULTS/"
{
  echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "command: $COMMAND (job: $JOB, filter: $FILTER)"
  echo "source: $(git -C "$REPO" rev-parse --short HEAD)$([[ $FROM_HEAD == 1 ]] || echo ' + working tree')"
  echo "cores: $(nproc); cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
  echo "memory: $(grep MemTotal /proc/meminfo | awk '{print $2, $3}')"
  echo "kernel: $(uname -r); debian: $(cat /etc/debian_version); dotnet: $(dotnet --version)"
  echo "load average before: $load_before; after: $load_after"
} > "$RESULTS/machine.txt"
echo "BenchmarkDotNet reports: $RESULTS"
