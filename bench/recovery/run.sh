#!/usr/bin/env bash
# The signal-recovery benchmark (issue #19): bash bench/recovery/run.sh [--quick] [options]   (README.md beside it)
#
# Installs what is missing (Debian: chromium, nginx, webext-ublock-origin-chromium for EasyList/EasyPrivacy, openssl;
# npm: bench/recovery/package-lock.json), publishes the gateway once from a snapshot of this working tree, then drives
# headless Chromium through a seeded population twice (pixel only, then through the gateway) on loopback, and writes
# bench/results/recovery.json and recovery.svg. Everything it starts is stopped on exit; its scratch folder is removed.
#
#   --quick                10 visitors (default 100)
#   --visitors N --seed S  population size and seed (default seed 19)
#   --blocker-share X      share of visitors with the content blocker (default 0.3)
#   --safari-share X       share under the Safari cookie model (default 0.3)
#   --concurrency N        visitors driven at once (default 3)
#   --region CC-RR         the visitors' region as the edge reports it (default DE-BE)
#   --banner-timing WHEN   before: tags wait for the consent banner's answer (default); after: they fire first
#   --ga4-window SECONDS   the GA4 gap-fill window of the run's gateway (default 10; production's is 2 min), waited out
#   --gateway-bin PATH     use this published TagGateway (binary or .dll) instead of publishing one
#   --label TEXT           what that build is (e.g. "cad346a, framework-dependent"), for the results
#   --aot                  publish Native AOT (what ships; slower to build) instead of a framework-dependent build
#   --results DIR          where recovery.json/.svg go (default bench/results); --no-results writes none
#   --keep                 keep the scratch folder (every recorded event, gateway and nginx logs)
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$REPO/bench/lib.sh"
HERE="$REPO/bench/recovery"
COMMAND="bash bench/recovery/run.sh $*"
PASS=() GATEWAY_BIN="" LABEL="" AOT=0 RESULTS="$REPO/bench/results" KEEP=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) PASS+=(--quick); shift ;;
    --visitors|--seed|--blocker-share|--safari-share|--concurrency|--region|--banner-timing|--ga4-window) PASS+=("$1" "$2"); shift 2 ;;
    --gateway-bin) GATEWAY_BIN="$(realpath "$2")"; shift 2 ;;
    --label) LABEL="$2"; shift 2 ;;
    --aot) AOT=1; shift ;;
    --results) RESULTS="$(realpath -m "$2")"; shift 2 ;;
    --no-results) RESULTS=""; shift ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "unknown option: $1 (see --help)" >&2; exit 2 ;;
  esac
done

# Node may come from another repository (NodeSource's nodejs bundles npm): Debian's is asked for only when none is there.
extra=(cmd:node cmd:npm)
[[ "$AOT" == 0 ]] || extra+=(clang zlib1g-dev)
bench_install_missing chromium nginx webext-ublock-origin-chromium openssl "${extra[@]}"
if [[ ! -d "$HERE/node_modules/@ghostery/adblocker" || ! -d "$HERE/node_modules/playwright-core" ]]; then
  # playwright-core never downloads a browser: Debian's /usr/bin/chromium is used.
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
fi

bench_scratch tg-recovery

# The gateway: one publish of a snapshot of src/ (bin/obj excluded, so a build in the working tree cannot interfere).
if [[ -z "$GATEWAY_BIN" ]]; then
  bench_snapshot_src "$WORK/src"
  if [[ "$AOT" == 1 ]]; then
    echo "publishing the gateway (Native AOT)..."
    bench_publish_gateway "$WORK/gateway" -r linux-x64
    GATEWAY_BIN="$WORK/gateway/TagGateway"
  else
    echo "publishing the gateway (framework-dependent Release build; --aot for the native binary)..."
    bench_publish_gateway "$WORK/gateway" -p:PublishAot=false
    GATEWAY_BIN="$WORK/gateway/TagGateway.dll"
  fi
  SOURCE="$(git -C "$REPO" rev-parse --short HEAD)$(git -C "$REPO" diff --quiet HEAD -- src 2>/dev/null && echo '' || echo ' + uncommitted changes in src/')$([[ "$AOT" == 1 ]] && echo ', Native AOT' || echo ', framework-dependent')"
else
  SOURCE="binary $GATEWAY_BIN"
fi
[[ -z "$LABEL" ]] || SOURCE="$LABEL"

# GA4 gap-fill (issue #13): used when this gateway has a GoogleAnalytics conversion destination, reported as not
# available otherwise. The gateway ignores configuration keys it does not know, so the source decides.
GA4=no
grep -q "GoogleAnalyticsOptions GoogleAnalytics" "$REPO/src/TagGateway.Capi/Configuration/CapiOptions.cs" 2>/dev/null && GA4=yes

bench_run_harness node "$HERE/harness.mjs" --work "$WORK" --gateway-bin "$GATEWAY_BIN" --gateway-source "$SOURCE" --ga4-gap-fill "$GA4" \
  ${RESULTS:+--results "$RESULTS"} --command "$COMMAND" "${PASS[@]}"
exit "$STATUS"
