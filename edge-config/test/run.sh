#!/usr/bin/env bash
# edge-config end-to-end tests: the Cloudflare Worker under workerd, the GCP
# Terraform, and the VM unit / install script / nginx / Caddy, each in front of
# the real gateway on loopback. Nothing contacts the internet.
#
#   TAGGATEWAY_BIN=/abs/path/to/TagGateway bash edge-config/test/run.sh
#
# TAGGATEWAY_BIN  the published native gateway (required)
# TAGGATEWAY_STUB=1 without TAGGATEWAY_BIN: run against the contract stub
#                 (test/lib/stub-gateway.mjs), for work on the edge files only
# EDGE_SKIP_APT=1 do not apt-get install missing tools
#
# Installs what is missing (idempotent): Debian packages nginx, caddy, systemd
# (systemd-analyze), shellcheck, python3; then `npm ci` in this folder
# (miniflare/workerd, @cdktf/hcl2json, smol-toml from package-lock.json).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

log() { printf 'edge-config: %s\n' "$*"; }
die() { printf 'edge-config: FAILED: %s\n' "$*" >&2; exit 1; }

# --- the gateway under test ---------------------------------------------------
if [[ -n "${TAGGATEWAY_BIN:-}" ]]; then
  TAGGATEWAY_BIN="$(realpath -- "$TAGGATEWAY_BIN")" || die "TAGGATEWAY_BIN does not exist"
  [[ -x "$TAGGATEWAY_BIN" ]] || die "TAGGATEWAY_BIN is not executable: $TAGGATEWAY_BIN"
  export TAGGATEWAY_BIN
  log "gateway under test: $TAGGATEWAY_BIN"
elif [[ "${TAGGATEWAY_STUB:-}" == "1" ]]; then
  log "gateway under test: contract stub (TAGGATEWAY_STUB=1); CI must set TAGGATEWAY_BIN"
else
  die "set TAGGATEWAY_BIN to the published native TagGateway binary (or TAGGATEWAY_STUB=1 for the stub)"
fi

# --- tools (Debian packages) --------------------------------------------------
# command -> package; caddy is optional (the Caddy tests are skipped without it).
declare -A want=([nginx]=nginx [systemd-analyze]=systemd [shellcheck]=shellcheck [python3]=python3 [caddy]=caddy)
missing=()
for cmd in "${!want[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${want[$cmd]}")
done
if [[ ${#missing[@]} -gt 0 && "${EDGE_SKIP_APT:-}" != "1" ]]; then
  log "installing ${missing[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || log "apt-get update failed; trying the package lists already here"
  installable=()
  for pkg in "${missing[@]}"; do
    policy="$(apt-cache policy "$pkg" 2>/dev/null || true)"
    if [[ "$policy" =~ Candidate:\ [^\(] ]]; then
      installable+=("$pkg")
    else
      log "no Debian package $pkg here; its tests will be skipped"
    fi
  done
  if [[ ${#installable[@]} -gt 0 ]]; then
    apt-get install -y -qq --no-install-recommends "${installable[@]}" >/dev/null \
      || log "apt-get install ${installable[*]} failed"
  fi
fi
for cmd in nginx systemd-analyze; do
  command -v "$cmd" >/dev/null 2>&1 || die "$cmd is required and not installed"
done

# --- node and the npm packages -------------------------------------------------
command -v node >/dev/null 2>&1 || die "node is required (20.18.1 or newer)"
node -e 'const [a,b,c]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&(b>18||(b===18&&c>=1)))?0:1)' \
  || die "node $(node --version) is too old: 20.18.1 or newer is required"
log "npm ci ($(node --version), npm $(npm --version))"
npm ci --no-audit --no-fund --loglevel=error >/dev/null

# --- run ------------------------------------------------------------------------
EDGE_TEST_TMP="$(mktemp -d /tmp/edge-config-test.XXXXXX)"
export EDGE_TEST_TMP

cleanup() {
  local status=$?
  # End whatever the tests started and did not stop: every process they start
  # (gateway, nginx, Caddy, workerd, fake servers) carries this run's unique
  # EDGE_TEST_TMP path in its environment, so only our own processes match.
  local environ pid
  for environ in /proc/[0-9]*/environ; do
    pid="${environ#/proc/}"
    pid="${pid%/environ}"
    [[ "$pid" != "$$" ]] || continue
    if grep -qzF -- "$EDGE_TEST_TMP" "$environ" 2>/dev/null; then
      log "ending leftover test process $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-120)"
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  if [[ $status -eq 0 ]]; then
    rm -rf -- "$EDGE_TEST_TMP"
  else
    log "logs and configs kept in $EDGE_TEST_TMP"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "running node --test (cloudflare, gcp, vm)"
started=$SECONDS
set +e
timeout --kill-after=10s 900s node --test --test-concurrency=1 --test-reporter=spec \
  cloudflare.test.mjs gcp.test.mjs vm.test.mjs 2>&1 | tee "$EDGE_TEST_TMP/node-test.log"
status=${PIPESTATUS[0]}
set -e

count() { sed -n "s/^ℹ $1 \([0-9]*\)$/\1/p" "$EDGE_TEST_TMP/node-test.log" | tail -n 1; }
passed="$(count pass)" failed="$(count fail)" cancelled="$(count cancelled)" skipped="$(count skipped)"
failed=$(( ${failed:-0} + ${cancelled:-0} ))
echo
log "$(( SECONDS - started ))s; gateway: ${TAGGATEWAY_BIN:-contract stub}"
echo "edge-config: ${passed:-0} passed, ${failed} failed, ${skipped:-0} skipped"
if [[ $status -ne 0 || $failed -ne 0 || -z "${passed:-}" || "${passed:-0}" -eq 0 ]]; then
  [[ $status -ne 0 ]] || status=1
  exit "$status"
fi
