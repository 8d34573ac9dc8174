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

need=()
for pkg in chromium nginx webext-ublock-origin-chromium openssl; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
# Node may come from another repository (NodeSource's nodejs bundles npm): ask for Debian's only when none is there.
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
[[ "$AOT" == 0 ]] || for pkg in clang zlib1g-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [[ ${#need[@]} -gt 0 ]]; then
  echo "installing: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
if [[ ! -d "$HERE/node_modules/@ghostery/adblocker" || ! -d "$HERE/node_modules/playwright-core" ]]; then
  # playwright-core never downloads a browser: Debian's /usr/bin/chromium is used.
  (cd "$HERE" && npm ci --no-audit --no-fund --loglevel=error)
fi

WORK="$(mktemp -d /tmp/tg-recovery.XXXXXX)"
HARNESS_PID=""
cleanup() {
  if [[ -n "$HARNESS_PID" ]] && kill -0 "$HARNESS_PID" 2>/dev/null; then
    kill -TERM "$HARNESS_PID" 2>/dev/null || true
    wait "$HARNESS_PID" 2>/dev/null || true
  fi
  if [[ "$KEEP" == 1 ]]; then echo "scratch folder kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The gateway: one publish of a snapshot of src/ (bin/obj excluded, so a build in the working tree cannot interfere).
if [[ -z "$GATEWAY_BIN" ]]; then
  mkdir -p "$WORK/src"
  tar -C "$REPO" --exclude=bin --exclude=obj --exclude=node_modules \
    -c src Directory.Build.props Directory.Packages.props global.json $(cd "$REPO" && ls .editorconfig nuget.config NuGet.config 2>/dev/null) \
    | tar -x -C "$WORK/src"
  if [[ "$AOT" == 1 ]]; then
    echo "publishing the gateway (Native AOT)..."
    dotnet publish "$WORK/src/src/TagGateway/TagGateway.csproj" -c Release -r linux-x64 -o "$WORK/gateway" -nologo -v q >"$WORK/publish.log" 2>&1 \
      || { tail -30 "$WORK/publish.log"; exit 1; }
    GATEWAY_BIN="$WORK/gateway/TagGateway"
  else
    echo "publishing the gateway (framework-dependent Release build; --aot for the native binary)..."
    dotnet publish "$WORK/src/src/TagGateway/TagGateway.csproj" -c Release -p:PublishAot=false -o "$WORK/gateway" -nologo -v q >"$WORK/publish.log" 2>&1 \
      || { tail -30 "$WORK/publish.log"; exit 1; }
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

node "$HERE/harness.mjs" --work "$WORK" --gateway-bin "$GATEWAY_BIN" --gateway-source "$SOURCE" --ga4-gap-fill "$GA4" \
  ${RESULTS:+--results "$RESULTS"} --command "$COMMAND" "${PASS[@]}" &
HARNESS_PID=$!
status=0
wait "$HARNESS_PID" || status=$?
HARNESS_PID=""
exit "$status"
