#!/usr/bin/env bash
# The load harness: bash bench/load/run.sh [--quick] [options]   (bench/README.md explains the figures)
#
# On 127.0.0.1 only, it starts a fake upstream (Debian's nginx), the gateway (Native AOT, published from a snapshot
# of this working tree), an nginx peer and a YARP peer (bench/YarpPeer), drives each with wrk in alternating rounds,
# checks from the upstream's own log that every hit was forwarded, and writes bench/results/load.{md,json} and
# bench/results/machine.txt. Everything it starts is stopped on exit; its scratch folder is removed.
#
#   --quick              2 rounds x 5 s, 3 cold starts (about 3 minutes with the builds); default 3 x 15 s (about 10)
#   --rounds N --duration S --warmup S --connections C --cold-starts N
#   --scenarios LIST     comma-separated: collect,script-br,script-304,capi (capi: skipped while the module cannot)
#   --pin                peers on CPU 0, wrk and the upstream on CPU 1 (the default shares both CPUs)
#   --gateway-bin PATH   measure this native binary instead of publishing one
#   --label TEXT         what that binary is (e.g. "a22d453, published by the command above"), for the results
#   --from-head          publish the committed HEAD instead of the working tree
#   --results DIR        where the result files go (default bench/results)
#   --client NAME        the gateway's forwarding client: Http or Pipelines (default: the gateway's own default)
#   --bdn                afterwards, run the BenchmarkDotNet suites too (bench/load/bdn.sh)
#   --keep               keep the scratch folder (logs, configs) for inspection
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$REPO/bench/lib.sh"
ROUNDS=3 DURATION=15 WARMUP=5 CONNECTIONS=64 COLD=5 SCENARIOS="collect,script-br,script-304,capi"
PEER_CPUS="" DRIVER_CPUS="" GATEWAY_BIN="" LABEL="" FROM_HEAD=0 RESULTS="$REPO/bench/results" BDN=0 KEEP=0
COMMAND="bash bench/load/run.sh $*"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) ROUNDS=2 DURATION=5 WARMUP=2 COLD=3; shift ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --warmup) WARMUP="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --cold-starts) COLD="$2"; shift 2 ;;
    --scenarios) SCENARIOS="$2"; shift 2 ;;
    --pin) PEER_CPUS=0 DRIVER_CPUS=1; shift ;;
    --gateway-bin) GATEWAY_BIN="$(realpath "$2")"; shift 2 ;;
    --label) LABEL="$2"; shift 2 ;;
    --from-head) FROM_HEAD=1; shift ;;
    --results) RESULTS="$(realpath -m "$2")"; shift 2 ;;
    --client) export TG_FORWARDING_CLIENT="$2"; shift 2 ;;
    --bdn) BDN=1; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done

bench_install_missing nginx libnginx-mod-http-brotli-static wrk brotli python3 clang zlib1g-dev
bench_scratch tg-bench

# The gateway: a Native AOT publish of a snapshot (bin/obj excluded), so a build in the working tree cannot interfere.
if [[ -z "$GATEWAY_BIN" ]]; then
  if [[ "$FROM_HEAD" == 1 ]]; then
    mkdir -p "$WORK/src"
    git -C "$REPO" archive HEAD | tar -x -C "$WORK/src"
  else
    bench_snapshot_src "$WORK/src"
  fi
  echo "publishing the gateway (Native AOT, about a minute)..."
  bench_publish_gateway "$WORK/gateway" -r linux-x64
  GATEWAY_BIN="$WORK/gateway/TagGateway"
  SOURCE="$(git -C "$REPO" rev-parse --short HEAD)$([[ "$FROM_HEAD" == 1 ]] || { git -C "$REPO" diff --quiet HEAD -- src 2>/dev/null && echo ' (working tree = HEAD for src/)' || echo ' + uncommitted changes in src/'; })"
else
  SOURCE="binary $GATEWAY_BIN"
fi
[[ -z "$LABEL" ]] || SOURCE="$LABEL"

echo "building the YARP peer..."
dotnet build "$REPO/bench/YarpPeer/YarpPeer.csproj" -c Release -o "$WORK/yarp" -nologo -v q >"$WORK/yarp-build.log" 2>&1 \
  || { tail -30 "$WORK/yarp-build.log"; exit 1; }

bench_run_harness python3 "$REPO/bench/load/harness.py" --work "$WORK" --gateway-bin "$GATEWAY_BIN" --yarp-dll "$WORK/yarp/YarpPeer.dll" \
  --results "$RESULTS" --command "$COMMAND" --source "$SOURCE" --rounds "$ROUNDS" --duration "$DURATION" --warmup "$WARMUP" \
  --connections "$CONNECTIONS" --cold-starts "$COLD" --scenarios "$SCENARIOS" --peer-cpus "$PEER_CPUS" --driver-cpus "$DRIVER_CPUS"
status=$STATUS

if [[ "$BDN" == 1 ]]; then
  bash "$REPO/bench/load/bdn.sh" --results "$RESULTS/benchmarkdotnet" || status=$?
fi
exit "$status"
