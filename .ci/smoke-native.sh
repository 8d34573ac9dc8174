#!/usr/bin/env bash
# Smoke test of the published Native AOT binary: start it against a loopback fake upstream,
# fetch a script through the measurement path, forward a hit, stop it. Prints start-to-first-script time.
set -euo pipefail
bin="${1:?usage: smoke-native.sh /path/to/TagGateway}"
work="$(mktemp -d)"
cleanup() {
  [[ -n "${gw_pid:-}" ]] && kill "$gw_pid" 2>/dev/null || true
  [[ -n "${up_pid:-}" ]] && kill "$up_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
up_port=$(free_port); pub_port=$(free_port); mgmt_port=$(free_port)

# The fake upstream: a script for the tag paths, 204 with two Set-Cookie for hits; records each request line.
cat > "$work/upstream.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def _record(self):
        with open(sys.argv[2], "a") as f:
            f.write(f"{self.command} {self.path} host={self.headers.get('Host')} xff={self.headers.get('X-Forwarded-For')}\n")
    def do_GET(self):
        self._record()
        if "/gtag/js" in self.path or "/gtm.js" in self.path:
            body = b"/* smoke script */ window.smoke = true;\n" * 50
            self.send_response(200)
            self.send_header("Content-Type", "application/javascript")
            self.send_header("Cache-Control", "public, max-age=300")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.do_POST()
    def do_POST(self):
        if self.command == "POST":
            self._record()
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.send_response(204)
        self.send_header("Set-Cookie", "FPID=smoke; Path=/; HttpOnly")
        self.send_header("Set-Cookie", "FPLC=smoke; Path=/")
        self.end_headers()
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
python3 "$work/upstream.py" "$up_port" "$work/requests.log" & up_pid=$!

start_ns=$(date +%s%N)
Gateway__PublicUrl="http://127.0.0.1:$pub_port" \
Gateway__ManagementUrl="http://127.0.0.1:$mgmt_port" \
Gateway__TagIds__0=G-SMOKE123 \
Gateway__Upstreams__TagGatewayOrigin="http://127.0.0.1:$up_port" \
Logging__Console__FormatterName=simple \
  "$bin" > "$work/gateway.log" 2>&1 & gw_pid=$!

script_url="http://127.0.0.1:$pub_port/metrics/gtag/js?id=G-SMOKE123"
for _ in $(seq 1 500); do
  if curl -sf -o "$work/script.br" -H 'Accept-Encoding: br' "$script_url"; then break; fi
  sleep 0.01
done
first_ns=$(date +%s%N)
[[ -s "$work/script.br" ]] || { echo "smoke: no script served"; cat "$work/gateway.log"; exit 1; }

headers=$(curl -s -D - -o /dev/null -H 'Accept-Encoding: br' "$script_url")
grep -qi '^content-encoding: br' <<<"$headers" || { echo "smoke: script not brotli-encoded"; echo "$headers"; exit 1; }
grep -qi '^x-taggateway-cache: hit' <<<"$headers" || { echo "smoke: second load not a cache hit"; echo "$headers"; exit 1; }

hit_headers=$(curl -s -D - -o /dev/null -X POST --data 'en=page_view' "http://127.0.0.1:$pub_port/metrics/g/collect?v=2&tid=G-SMOKE123")
[[ $(grep -ci '^set-cookie:' <<<"$hit_headers") -eq 2 ]] || { echo "smoke: Set-Cookie not relayed"; echo "$hit_headers"; exit 1; }
curl -sf "http://127.0.0.1:$mgmt_port/healthz" >/dev/null || { echo "smoke: /healthz failed"; exit 1; }

grep -q 'GET /metrics/gtag/js?id=G-SMOKE123 host=g-smoke123.fps.goog' "$work/requests.log" || { echo "smoke: upstream did not see the script fetch"; cat "$work/requests.log"; exit 1; }
[[ $(grep -c 'gtag/js' "$work/requests.log") -eq 1 ]] || { echo "smoke: script fetched more than once"; exit 1; }
grep -q 'POST /metrics/g/collect?v=2&tid=G-SMOKE123 .*xff=127.0.0.1' "$work/requests.log" || { echo "smoke: hit not forwarded"; cat "$work/requests.log"; exit 1; }

# A second instance on the same ports exits plainly (1, the bind error), not with an unhandled-exception abort (134).
set +e
Gateway__PublicUrl="http://127.0.0.1:$pub_port" Gateway__ManagementUrl="http://127.0.0.1:$mgmt_port" Gateway__TagIds__0=G-SMOKE123 \
  timeout 20 "$bin" > "$work/second.log" 2>&1
second_rc=$?
set -e
[[ $second_rc -eq 1 ]] && grep -q 'address already in use' "$work/second.log" \
  || { echo "smoke: a second instance on busy ports exited $second_rc"; cat "$work/second.log"; exit 1; }

rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$gw_pid/status")
kill -TERM "$gw_pid"; wait "$gw_pid" || true; gw_pid=
echo "smoke: native binary OK; start to first served script $(( (first_ns - start_ns) / 1000000 )) ms; RSS ${rss_kb} kB; size $(stat -c %s "$bin") bytes"
