#!/usr/bin/env python3
"""The load harness behind bench/load/run.sh (run that, not this: it installs nginx and wrk and builds the peers).

On 127.0.0.1 only: a fake upstream (nginx), the gateway (Native AOT), an nginx peer and a YARP peer in front of the
same upstream. wrk drives each scenario against each in alternating rounds; the upstream's own log proves every hit
was forwarded. Prints and writes (bench/results/) requests/s, p50/p99, peak RSS and CPU per request as ratios to
nginx from the same run, the gateway's start-to-first-script, idle and loaded RSS, and the binary size.
"""
import argparse
import datetime
import hashlib
import json
import os
import re
import resource
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TAG_ID = "G-BENCH12345"
# The gateway's refresh marker in the hits' cookie jar: set "now", so the jar is a returning browser's (collect.lua).
MARKER_TIME = int(time.time())
UPSTREAM_HOST = "g-bench12345.fps.goog"
SCRIPT_PATH = "/metrics/gtag/js?id=" + TAG_ID
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024

PEERS = ["gateway", "nginx", "yarp"]
# A reference, not a peer: Kestrel alone (bench/YarpPeer --floor) reading each hit and answering 204 with no upstream
# call. Measured on hits only, so one run shows what ASP.NET Core's server side costs beside nginx's whole proxied hit.
FLOOR = "kestrel-floor"
SCENARIOS = {
    "collect": "GA4 /g/collect POST, batched body + cookies, forwarded",
    "script-br": "gtag/js from cache, Accept-Encoding: br",
    "script-304": "gtag/js conditional, If-None-Match -> 304",
    "capi": "server-to-server events (POST /capi/v1/events), gateway only",
}

started = []  # every process this harness started, killed by pid on exit


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def free_ports(count):
    sockets, ports = [], []
    for _ in range(count):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
        ports.append(s.getsockname()[1])
    for s in sockets:
        s.close()
    return ports


def start(name, argv, work, env=None, cpus=None):
    if cpus:
        argv = ["taskset", "-c", cpus] + argv
    out = open(os.path.join(work, name + ".out"), "ab")
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
    started.append(proc)
    return proc


def stop(proc, timeout=10):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    if proc in started:
        started.remove(proc)


def cleanup(*_):
    for proc in list(started):
        try:
            stop(proc, 5)
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass


def family(pid):
    """The pid and its children (nginx: master and workers)."""
    pids = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                pids += [int(p) for p in handle.read().split()]
    except OSError:
        pass
    return pids


def rss_kb(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as handle:
                total += int(handle.read().split()[1]) * PAGE_KB
        except OSError:
            pass
    return total


def pss_kb(pids):
    """Proportional set size: shared pages divided among the processes that map them (fair to nginx's workers)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / CLK_TCK


def machine_busy_seconds():
    with open("/proc/stat") as handle:
        fields = [int(v) for v in handle.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / CLK_TCK


def loadavg():
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


class RssSampler:
    """Peak of the summed RSS of a process family, sampled every 100 ms while a round runs."""

    def __init__(self, pids):
        self.pids, self.peak, self.peak_pss, self._stop = pids, 0, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_kb(self.pids))
            self.peak_pss = max(self.peak_pss, pss_kb(self.pids))
            self._stop.wait(0.1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_kb(self.pids))
        self.peak_pss = max(self.peak_pss, pss_kb(self.pids))


def http(port, method, path, headers=None, body=b"", timeout=10):
    """One request on a fresh connection; returns (status, headers dict lower-case, body bytes)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body:
            lines.append(f"Content-Length: {len(body)}")
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        return read_response(sock)
    finally:
        sock.close()


def read_response(sock):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed before the headers")
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split()[1])
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), value.strip())
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            while b"\r\n" not in rest:
                rest += sock.recv(65536)
            size_line, rest = rest.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                chunk = sock.recv(65536)
                if not chunk:
                    raise ConnectionError("connection closed inside a chunk")
                rest += chunk
            if size == 0:
                return status, headers, body
            body += rest[:size]
            rest = rest[size + 2:]
    length = int(headers.get("content-length", "0"))
    if status in (204, 304):
        length = 0
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:length]


def wait_listening(port, proc, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process {proc.args} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.005)
    raise RuntimeError(f"nothing listens on {port} after {seconds}s")


# ---------------------------------------------------------------------------------------------------------- wrk

LATENCY_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def parse_latency(text):
    match = re.match(r"([\d.]+)(us|ms|s|m)$", text)
    return float(match.group(1)) * LATENCY_UNITS[match.group(2)]


def run_wrk(args, port, lua, lua_args, seconds, cpus):
    argv = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{seconds}s", "--latency",
            "--timeout", "5s", "-s", os.path.join(HERE, lua), f"http://127.0.0.1:{port}"]
    if lua_args:
        argv += ["--"] + lua_args
    if cpus:
        argv = ["taskset", "-c", cpus] + argv
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = {"wrk_cpu_s": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)}
    result["requests"] = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", out).group(1))
    result["rps"] = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    for pct in ("50", "90", "99"):
        result[f"p{pct}_ms"] = parse_latency(re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", out, re.M).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx_3xx"] = int(non2xx.group(1)) if non2xx else 0
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["socket_errors"] = sum(int(g) for g in errors.groups()) if errors else 0
    not_accepted = re.search(r"capi-not-accepted: (\d+)", out)
    if not_accepted:
        result["capi_not_accepted"] = int(not_accepted.group(1))
    read = re.search(r"requests in [\d.]+\w+, ([\d.]+)([KMGT]?B) read", out)
    scale = {"B": 1, "KB": 1024, "MB": 1024 ** 2, "GB": 1024 ** 3, "TB": 1024 ** 4}[read.group(2)]
    result["bytes_per_response"] = float(read.group(1)) * scale / max(result["requests"], 1)
    return result


# ------------------------------------------------------------------------------------------------ upstream log

class UpstreamLog:
    """Counts the fake upstream's log lines per round tag; truncated after each read so the disk stays small."""

    def __init__(self, path, master_pid):
        self.path, self.master_pid = path, master_pid

    def drain(self):
        os.kill(self.master_pid, signal.SIGUSR1)  # reopen: flushes every worker's buffer
        time.sleep(0.5)
        counts = {}
        try:
            with open(self.path, "r+") as handle:
                for line in handle:
                    parts = line.split()
                    if not parts:
                        continue
                    entry = counts.setdefault(parts[0], {"lines": 0, "host_xff_ok": 0, "cookies_leaked": 0, "lengths": set()})
                    entry["lines"] += 1
                    if len(parts) > 1 and parts[1] == "11":
                        entry["host_xff_ok"] += 1
                    if len(parts) > 3 and parts[3] == "leaked":
                        entry["cookies_leaked"] += 1
                    if len(parts) > 2:
                        entry["lengths"].add(parts[2])
                handle.seek(0)
                handle.truncate()
        except FileNotFoundError:
            pass
        return counts


# ------------------------------------------------------------------------------------------------ cold start

def gateway_env(ports):
    env = dict(os.environ)
    env.update({
        "Gateway__PublicUrl": f"http://127.0.0.1:{ports['gateway']}",
        "Gateway__ManagementUrl": f"http://127.0.0.1:{ports['management']}",
        "Gateway__TagIds__0": TAG_ID,
        "Gateway__Mode": "TagGateway",
        "Gateway__Upstreams__TagGatewayOrigin": f"http://127.0.0.1:{ports['upstream']}",
        "Logging__LogLevel__Default": "Warning",
        "Logging__Console__FormatterName": "simple",
    })
    # run.sh --client Http|Pipelines: which forwarding client the gateway uses (its default otherwise).
    if os.environ.get("TG_FORWARDING_CLIENT"):
        env["Gateway__Forwarding__Client"] = os.environ["TG_FORWARDING_CLIENT"]
    return env


def script_fetch_seconds(management_port):
    """The gateway's own histogram: seconds spent waiting on the upstream for script fetches."""
    _, _, body = http(management_port, "GET", "/metrics")
    match = re.search(r'taggateway_upstream_duration_seconds_sum\{[^}]*route="script"[^}]*\}\s+([\d.eE+-]+)', body.decode())
    return float(match.group(1)) if match else None


def cold_start(binary, env, ports, work, cpus):
    """Exec to: listening, first response (/healthy), first script (cold cache: fetch + Brotli 11 + gzip)."""
    t0 = time.perf_counter()
    proc = start("gateway-coldstart", [binary], work, env=env, cpus=cpus)
    try:
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", ports["gateway"]), timeout=5)
                break
            except OSError:
                if proc.poll() is not None or time.perf_counter() - t0 > 20:
                    raise RuntimeError("the gateway did not start; see gateway-coldstart.out")
                time.sleep(0.0002)
        t_listen = time.perf_counter()
        sock.sendall(b"GET /metrics/healthy HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        status_health, _, _ = read_response(sock)
        t_health = time.perf_counter()
        sock.sendall(f"GET {SCRIPT_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n\r\n".encode())
        status, headers, body = read_response(sock)
        t_script = time.perf_counter()
        sock.sendall(f"GET {SCRIPT_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip, deflate, br, zstd\r\n\r\n".encode())
        status2, headers2, _ = read_response(sock)
        t_second = time.perf_counter()
        sock.close()
        if status_health != 200 or status != 200 or status2 != 200 or headers.get("content-encoding") != "br":
            raise RuntimeError(f"cold start: unexpected answers {status_health}/{status}/{status2} {headers}")
        fetch = script_fetch_seconds(ports["management"])
        return {
            "listening_ms": (t_listen - t0) * 1000,
            "first_response_ms": (t_health - t0) * 1000,
            "first_script_ms": (t_script - t0) * 1000,
            "first_script_after_listening_ms": (t_script - t_health) * 1000,
            "upstream_fetch_ms": fetch * 1000 if fetch is not None else None,
            "second_script_ms": (t_second - t_script) * 1000,
            "second_cache_status": headers2.get("x-taggateway-cache"),
            "brotli_bytes": len(body),
        }
    finally:
        stop(proc)


# --------------------------------------------------------------------------------------------------- main run

def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--work", required=True)
    parser.add_argument("--gateway-bin", required=True)
    parser.add_argument("--yarp-dll", required=True)
    parser.add_argument("--results", required=True, help="folder for load.json, load.md, machine.txt")
    parser.add_argument("--command", default="bash bench/load/run.sh")
    parser.add_argument("--source", default="", help="what was measured (commit, working tree)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=20, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of unmeasured load per peer and scenario")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cold-starts", type=int, default=5)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--peer-cpus", default="", help="taskset list for the peers (e.g. 0); empty: no pinning")
    parser.add_argument("--driver-cpus", default="", help="taskset list for wrk and the upstream (e.g. 1)")
    parser.add_argument("--capi-path", default="/capi/v1/events")
    parser.add_argument("--capi-body", default=os.path.join(HERE, "capi-event.json"))
    args = parser.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
    work = args.work
    os.makedirs(os.path.join(work, "tmp"), exist_ok=True)
    os.chmod(work, 0o755)  # nginx's workers run as www-data and read the script files from here
    scenarios = [s for s in args.scenarios.split(",") if s]
    run_started = datetime.datetime.now(datetime.timezone.utc)
    load_before = loadavg()
    log(f"load average before: {load_before}")

    up, gw, mgmt, ng, yarp, floor = free_ports(6)
    ports = {"upstream": up, "gateway": gw, "management": mgmt, "nginx": ng, "yarp": yarp, FLOOR: floor}
    log(f"ports: {ports}")

    # The script body: the same bytes upstream for everyone (identity, Brotli 11, gzip -9 for brotli_/gzip_static).
    root = os.path.join(work, "upstream-root", "metrics", "gtag")
    os.makedirs(root, exist_ok=True)
    script_file = os.path.join(root, "js")
    subprocess.run([sys.executable, os.path.join(HERE, "make_script.py"), script_file], check=True)
    subprocess.run(["brotli", "-f", "-q", "11", "-o", script_file + ".br", script_file], check=True)
    with open(script_file + ".gz", "wb") as gz:
        subprocess.run(["gzip", "-9", "-n", "-c", script_file], stdout=gz, check=True)
    with open(script_file, "rb") as handle:
        script_identity = handle.read()
    script_sha = hashlib.sha256(script_identity).hexdigest()

    def render(template, name, extra):
        with open(os.path.join(HERE, template)) as handle:
            text = handle.read()
        values = {"WORK": work, "UPSTREAM_PORT": str(up), "NGINX_PORT": str(ng), "UPSTREAM_WORKERS": "2", "PEER_WORKERS": "2"}
        values.update(extra)
        for key, value in values.items():
            text = text.replace(f"@{key}@", value)
        path = os.path.join(work, name)
        with open(path, "w") as handle:
            handle.write(text)
        subprocess.run(["nginx", "-t", "-q", "-c", path], check=True)
        return path

    upstream_conf = render("upstream.conf.in", "upstream.conf", {})
    upstream = start("upstream", ["nginx", "-c", upstream_conf], work, cpus=args.driver_cpus)
    wait_listening(up, upstream)
    hits_log = UpstreamLog(os.path.join(work, "upstream.hits.log"), upstream.pid)
    scripts_log = UpstreamLog(os.path.join(work, "upstream.scripts.log"), upstream.pid)

    # ---- the gateway alone: start to first script, idle RSS, binary size
    env = gateway_env(ports)
    colds = []
    for i in range(args.cold_starts):
        colds.append(cold_start(args.gateway_bin, env, ports, work, args.peer_cpus))
        c = colds[-1]
        log(f"cold start {i + 1}/{args.cold_starts}: listening {c['listening_ms']:.1f} ms, first response {c['first_response_ms']:.1f} ms, "
            f"first script {c['first_script_ms']:.1f} ms (upstream fetch {c['upstream_fetch_ms'] or 0:.1f} ms), cached script {c['second_script_ms']:.2f} ms")
        time.sleep(0.3)
    scripts_log.drain()

    gateway = start("gateway", [args.gateway_bin], work, env=env, cpus=args.peer_cpus)
    wait_listening(gw, gateway)
    time.sleep(3)
    idle_fresh_kb = rss_kb([gateway.pid])
    status, gw_headers_br, gw_br = http(gw, "GET", SCRIPT_PATH, {"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert status == 200 and gw_headers_br.get("content-encoding") == "br", (status, gw_headers_br)
    status, gw_headers_gz, gw_gz = http(gw, "GET", SCRIPT_PATH, {"Accept-Encoding": "gzip"})
    assert status == 200 and gw_headers_gz.get("content-encoding") == "gzip"
    time.sleep(3)
    idle_cached_kb = rss_kb([gateway.pid])
    log(f"gateway idle RSS: {idle_fresh_kb / 1024:.1f} MB fresh, {idle_cached_kb / 1024:.1f} MB with the script cached")
    # The first answers carry the fast compression (Brotli 4, gzip 1) made while the visitor waited; by now the
    # background pass (Brotli 11, gzip best) has replaced it. Those final bytes are what the nginx peer serves too.
    status, gw_headers_br, gw_br = http(gw, "GET", SCRIPT_PATH, {"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert status == 200 and gw_headers_br.get("etag", "").endswith('.br"'), ("best Brotli not in place", gw_headers_br)
    status, gw_headers_gz, gw_gz = http(gw, "GET", SCRIPT_PATH, {"Accept-Encoding": "gzip"})
    assert status == 200 and gw_headers_gz.get("etag", "").endswith('.gz"'), ("best gzip not in place", gw_headers_gz)

    # ---- the peers
    peer_root = os.path.join(work, "peer-root", "metrics", "gtag")
    os.makedirs(peer_root, exist_ok=True)
    for suffix, data in (("", script_identity), (".br", gw_br), (".gz", gw_gz)):
        with open(os.path.join(peer_root, "js" + suffix), "wb") as handle:
            handle.write(data)
    nginx_conf = render("nginx-peer.conf.in", "nginx-peer.conf", {})
    nginx = start("nginx-peer", ["nginx", "-c", nginx_conf], work, cpus=args.peer_cpus)
    yarp_proc = start("yarp-peer", ["dotnet", args.yarp_dll, "--urls", f"http://127.0.0.1:{yarp}", "--upstream", f"http://127.0.0.1:{up}",
                                    "--host", UPSTREAM_HOST, "--path", "/metrics"], work, cpus=args.peer_cpus)
    wait_listening(ng, nginx)
    floor_proc = start(FLOOR, ["dotnet", args.yarp_dll, "--urls", f"http://127.0.0.1:{floor}", "--floor", "true"], work, cpus=args.peer_cpus)
    wait_listening(yarp, yarp_proc)
    wait_listening(floor, floor_proc)
    procs = {"gateway": gateway, "nginx": nginx, "yarp": yarp_proc, FLOOR: floor_proc}
    pids = {name: family(proc.pid) for name, proc in procs.items()}
    time.sleep(2)
    idle = {name: rss_kb(pids[name]) for name in PEERS}

    # ---- preflight: every peer answers each scenario as it should, with the same script bytes
    preflight, etags = {}, {}
    collect_body = b"en=page_view&_et=12"
    for name in PEERS:
        port = ports[name]
        status, headers, _ = http(port, "POST", f"/metrics/g/collect?v=2&tid={TAG_ID}&bk=preflight-{name}",
                                  {"Content-Type": "text/plain;charset=UTF-8", "Cookie": "_ga=GA1.1.1.2; session_id=x"}, collect_body)
        assert status == 204 and "FPID=" in headers.get("set-cookie", ""), (name, status, headers)
        status, headers, body = http(port, "GET", SCRIPT_PATH, {"Accept-Encoding": "gzip, deflate, br, zstd"})
        assert status == 200 and headers.get("content-encoding") == "br", (name, status, headers)
        decoded = subprocess.run(["brotli", "-d", "-c"], input=body, capture_output=True, check=True).stdout
        assert hashlib.sha256(decoded).hexdigest() == script_sha, f"{name} serves a different script"
        etags[name] = headers["etag"]
        status, _, _ = http(port, "GET", SCRIPT_PATH, {"Accept-Encoding": "gzip, deflate, br, zstd", "If-None-Match": etags[name]})
        assert status == 304, (name, status)
        preflight[name] = {"brotli_bytes": len(body), "etag": etags[name], "script_headers": sorted(headers)}
    counted = hits_log.drain()
    for name in PEERS:
        entry = counted.get(f"preflight-{name}")
        assert entry and entry["lines"] == 1 and entry["host_xff_ok"] == 1, (name, entry)
        preflight[name]["cookies_filtered"] = entry["cookies_leaked"] == 0
    scripts_log.drain()
    log("preflight: " + ", ".join(f"{n}: br {preflight[n]['brotli_bytes']} B, cookies {'filtered' if preflight[n]['cookies_filtered'] else 'NOT filtered'}" for n in PEERS))

    def workload(scenario, peer, tag):
        if scenario == "collect":
            return "collect.lua", [tag, str(MARKER_TIME)]
        if scenario == "script-br":
            return "script.lua", [""]
        if scenario == "script-304":
            return "script.lua", [etags[peer]]
        return "capi.lua", [args.capi_path, args.capi_body, CAPI_KEY, tag]

    def peers_for(scenario):
        if scenario == "capi":
            return ["gateway"]
        return PEERS + [FLOOR] if scenario == "collect" else PEERS

    measured = [s for s in scenarios if s != "capi"]

    # ---- warm-up (JIT tiers, pools, caches), unmeasured
    for scenario in measured:
        for peer in peers_for(scenario):
            lua, lua_args = workload(scenario, peer, "warm")
            run_wrk(args, ports[peer], lua, lua_args, args.warmup, args.driver_cpus)
    hits_log.drain()
    scripts_log.drain()
    log(f"warm-up done; load average {loadavg()}")

    # ---- measured rounds, alternating the order of the peers
    rounds = []

    def measure(r, scenario, peer, port_of, pids_of):
        tag = f"{peer}-r{r + 1}"
        lua, lua_args = workload(scenario, peer, tag)
        time.sleep(1)
        la = loadavg()
        cpu_before, busy_before, up_before = cpu_seconds(pids_of), machine_busy_seconds(), cpu_seconds(family(upstream.pid))
        with RssSampler(pids_of) as sampler:
            result = run_wrk(args, port_of, lua, lua_args, args.duration, args.driver_cpus)
        peer_cpu = cpu_seconds(pids_of) - cpu_before
        busy = machine_busy_seconds() - busy_before
        up_cpu = cpu_seconds(family(upstream.pid)) - up_before
        result.update({
            "round": r + 1, "scenario": scenario, "peer": peer, "loadavg": la, "peak_rss_kb": sampler.peak, "peak_pss_kb": sampler.peak_pss,
            "peer_cpu_s": peer_cpu, "upstream_cpu_s": up_cpu,
            "peer_cpu_us_per_request": peer_cpu / max(result["requests"], 1) * 1e6,
            # CPU used by neither the peer, the upstream nor wrk: other work on this machine.
            "foreign_cores": max(0.0, busy - peer_cpu - up_cpu - result["wrk_cpu_s"]) / args.duration,
        })
        if scenario == "collect":
            entry = hits_log.drain().get(tag, {"lines": 0, "host_xff_ok": 0, "cookies_leaked": 0, "lengths": set()})
            result["upstream_received"] = entry["lines"]
            result["upstream_host_xff_ok"] = entry["host_xff_ok"]
            result["upstream_cookies_leaked"] = entry["cookies_leaked"]
            result["upstream_body_lengths"] = sorted(entry["lengths"])
            # wrk counts completed responses; up to one request per connection may be in flight when it stops.
            result["all_forwarded"] = (result["requests"] <= entry["lines"] <= result["requests"] + args.connections
                                       and entry["host_xff_ok"] == entry["lines"] and len(entry["lengths"]) == 1)
            if peer == FLOOR:
                # The floor forwards nothing by design: its check is that nothing reached the upstream.
                result["all_forwarded"] = entry["lines"] == 0
        elif scenario.startswith("script"):
            fetched = scripts_log.drain()
            result["upstream_fetches"] = sum(v["lines"] for v in fetched.values())
        result["ok"] = (result["non_2xx_3xx"] == 0 and result["socket_errors"] == 0 and result.get("all_forwarded", True)
                        and result.get("capi_not_accepted", 0) == 0)
        rounds.append(result)
        extra = f", upstream got {result['upstream_received']}" if scenario == "collect" else ""
        log(f"r{r + 1} {scenario:10} {peer:7} {result['rps']:9.0f} req/s  p50 {result['p50_ms']:6.2f} ms  p99 {result['p99_ms']:6.2f} ms  "
            f"peak RSS {result['peak_rss_kb'] / 1024:6.1f} MB  {result['peer_cpu_us_per_request']:5.1f} us CPU/req  "
            f"foreign {result['foreign_cores']:.2f} cores{extra}{'' if result['ok'] else '  !! NOT OK'}")

    for r in range(args.rounds):
        for scenario in measured:
            order = peers_for(scenario)
            order = order[r % len(order):] + order[:r % len(order)]
            for peer in order:
                measure(r, scenario, peer, ports[peer], pids[peer])

    time.sleep(5)
    idle_after = {name: rss_kb(pids[name]) for name in PEERS}
    binary_bytes = os.path.getsize(args.gateway_bin)

    # ---- CAPI: server-to-server events accepted per second, on a second gateway with the module configured
    # (events fsync'd before the 202, delivered to a fake Meta on the upstream). Skipped while the module cannot.
    capi_status = "not asked for"
    if "capi" in scenarios:
        capi_status = run_capi(args, work, ports, up, measure, hits_log)
    load_after = loadavg()

    # ---- summary
    summary = {}
    for scenario in [s for s in scenarios if any(x["scenario"] == s for x in rounds)]:
        for peer in peers_for(scenario):
            runs = [x for x in rounds if x["scenario"] == scenario and x["peer"] == peer]
            summary[f"{scenario}/{peer}"] = {
                "rps": statistics.median(x["rps"] for x in runs),
                "p50_ms": statistics.median(x["p50_ms"] for x in runs),
                "p99_ms": statistics.median(x["p99_ms"] for x in runs),
                "peak_rss_kb": max(x["peak_rss_kb"] for x in runs),
                "peak_pss_kb": max(x["peak_pss_kb"] for x in runs),
                "cpu_us_per_request": statistics.median(x["peer_cpu_us_per_request"] for x in runs),
                "bytes_per_response": statistics.median(x["bytes_per_response"] for x in runs),
                "all_ok": all(x["ok"] for x in runs),
                "rounds": len(runs),
            }
    for key, value in summary.items():
        scenario, peer = key.split("/")
        base = summary.get(f"{scenario}/nginx")
        if base:
            value["rps_ratio"] = value["rps"] / base["rps"]
            value["p50_ratio"] = value["p50_ms"] / base["p50_ms"]
            value["p99_ratio"] = value["p99_ms"] / base["p99_ms"]
            value["rss_ratio"] = value["peak_rss_kb"] / base["peak_rss_kb"]
            value["pss_ratio"] = value["peak_pss_kb"] / base["peak_pss_kb"]
            value["cpu_ratio"] = value["cpu_us_per_request"] / base["cpu_us_per_request"]
        yarp_base = summary.get(f"{scenario}/yarp")
        if yarp_base and peer == "gateway":
            value["rps_vs_yarp"] = value["rps"] / yarp_base["rps"]

    cold = {key: statistics.median(c[key] for c in colds if c[key] is not None)
            for key in ("listening_ms", "first_response_ms", "first_script_ms", "first_script_after_listening_ms", "upstream_fetch_ms", "second_script_ms")
            if any(c[key] is not None for c in colds)}
    gateway_load_rss = max((x["peak_rss_kb"] for x in rounds if x["peer"] == "gateway" and x["scenario"] != "capi"), default=0)
    capi_load_rss = max((x["peak_rss_kb"] for x in rounds if x["scenario"] == "capi"), default=0)
    targets = evaluate_targets(summary, cold, idle_cached_kb, gateway_load_rss, binary_bytes, capi_load_rss)

    results = {
        "date": run_started.strftime("%Y-%m-%d %H:%M UTC"),
        "command": args.command,
        "source": args.source,
        "machine": machine_info(),
        "load_average_before": load_before, "load_average_after": load_after,
        "settings": {"rounds": args.rounds, "duration_s": args.duration, "warmup_s": args.warmup, "connections": args.connections,
                     "wrk_threads": args.threads, "peer_cpus": args.peer_cpus or "all", "driver_cpus": args.driver_cpus or "all",
                     "script_bytes": len(script_identity), "script_brotli_bytes": len(gw_br), "script_gzip_bytes": len(gw_gz)},
        "gateway": {"binary_bytes": binary_bytes, "cold_start_median": cold, "cold_starts": colds, "idle_rss_fresh_kb": idle_fresh_kb,
                    "idle_rss_cached_kb": idle_cached_kb, "load_rss_peak_kb": gateway_load_rss, "capi_load_rss_peak_kb": capi_load_rss},
        "idle_rss_kb": idle, "idle_rss_after_load_kb": idle_after,
        "capi": capi_status,
        "preflight": preflight, "summary": summary, "targets": targets, "rounds": rounds,
    }
    os.makedirs(args.results, exist_ok=True)
    with open(os.path.join(args.results, "load.json"), "w") as handle:
        json.dump(results, handle, indent=2, default=list)
    markdown = render_markdown(results, [s for s in scenarios if any(x["scenario"] == s for x in rounds)])
    with open(os.path.join(args.results, "load.md"), "w") as handle:
        handle.write(markdown)
    with open(os.path.join(args.results, "machine.txt"), "w") as handle:
        handle.write(machine_text(results))
    print()
    print(markdown)
    return 0 if all(v["all_ok"] for v in summary.values()) else 1


CAPI_KEY = "bench-ingest-key-0123456789abcdef"


def run_capi(args, work, ports, upstream_port, measure, hits_log):
    capi_gw, capi_mgmt = free_ports(2)
    capi_ports = dict(ports, gateway=capi_gw, management=capi_mgmt)
    env = gateway_env(capi_ports)
    env.update({
        "Capi__Ingest__ApiKeys__0": CAPI_KEY,
        "Capi__Store__Path": os.path.join(work, "capi-store"),
        "Capi__Meta__PixelId": "1234567890",
        "Capi__Meta__AccessToken": "bench-token",
        "Capi__Meta__BaseUrl": f"http://127.0.0.1:{upstream_port}",
    })
    proc = start("gateway-capi", [args.gateway_bin], work, env=env, cpus=args.peer_cpus)
    try:
        try:
            wait_listening(capi_gw, proc, 20)
        except RuntimeError:
            with open(os.path.join(work, "gateway-capi.out"), errors="replace") as handle:
                tail = " ".join(handle.read().split()[-40:])
            log(f"CAPI: the gateway did not start with the module configured: {tail}")
            return f"skipped: the gateway did not start with the CAPI configuration ({tail[:300]})"
        with open(args.capi_body) as handle:
            body = handle.read().replace("@EVENT_ID@", "bench-probe").replace("@EVENT_TIME@", str(int(time.time()))).encode()
        status, _, answer = http(capi_gw, "POST", args.capi_path, {"Content-Type": "application/json", "Authorization": "Bearer " + CAPI_KEY}, body)
        if status != 202 or b'"accepted":1' not in answer:
            log(f"CAPI: POST {args.capi_path} answered {status} {answer[:200]!r}: skipped")
            return f"skipped: POST {args.capi_path} answered {status} {answer[:200].decode(errors='replace')}"
        pids = family(proc.pid)
        run_wrk(args, capi_gw, "capi.lua", [args.capi_path, args.capi_body, CAPI_KEY, "warm"], args.warmup, args.driver_cpus)
        for r in range(args.rounds):
            measure(r, "capi", "gateway", capi_gw, pids)
        time.sleep(2)
        try:
            with open(os.path.join(work, "upstream.capi.log")) as handle:
                delivered = sum(1 for _ in handle)
        except FileNotFoundError:
            delivered = 0
        return f"measured on a second gateway (Meta destination on the fake upstream; {delivered} batches delivered to it)"
    finally:
        stop(proc)


def evaluate_targets(summary, cold, idle_kb, load_kb, binary_bytes, capi_kb=0):
    def check(name, value, target, met):
        return {"target": name, "measured": value, "goal": target, "met": bool(met)}

    targets = []
    hit, script = summary.get("collect/gateway"), summary.get("script-br/gateway")
    if hit and "rps_ratio" in hit:
        targets.append(check("Hits: req/s vs nginx proxy_pass", f"{hit['rps_ratio']:.2f}x", ">= 1.0x", hit["rps_ratio"] >= 1.0))
        targets.append(check("Hits: p99 vs nginx", f"{hit['p99_ratio']:.2f}x", "<= 1.5x", hit["p99_ratio"] <= 1.5))
    if hit and "rps_vs_yarp" in hit:
        targets.append(check("Hits: req/s vs YARP", f"{hit['rps_vs_yarp']:.2f}x", ">= 1.5x", hit["rps_vs_yarp"] >= 1.5))
    if script and "rps_ratio" in script:
        targets.append(check("Scripts from cache: req/s vs nginx static", f"{script['rps_ratio']:.2f}x", ">= 0.9x", script["rps_ratio"] >= 0.9))
    if "first_script_ms" in cold:
        targets.append(check("Start to first served script (cold cache)", f"{cold['first_script_ms']:.0f} ms", "< 50 ms", cold["first_script_ms"] < 50))
        targets.append(check("Start to listening (part of the above)", f"{cold['listening_ms']:.0f} ms", "(< 50 ms)", cold["listening_ms"] < 50))
    targets.append(check("Idle RSS (script cached)", f"{idle_kb / 1024:.1f} MB", "< 40 MB", idle_kb < 40 * 1024))
    targets.append(check("RSS at full load (peak: hits, scripts)", f"{load_kb / 1024:.1f} MB", "< 120 MB", load_kb < 120 * 1024))
    if capi_kb:
        targets.append(check("RSS at full load (peak: CAPI ingest)", f"{capi_kb / 1024:.1f} MB", "< 120 MB", capi_kb < 120 * 1024))
    targets.append(check("Native binary", f"{binary_bytes / 1e6:.1f} MB", "< 20 MB", binary_bytes < 20e6))
    return targets


def machine_info():
    info = {"cores": os.cpu_count(), "kernel": os.uname().release}
    try:
        with open("/proc/cpuinfo") as handle:
            info["cpu"] = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
        with open("/proc/meminfo") as handle:
            info["memory"] = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("MemTotal"))
        with open("/etc/debian_version") as handle:
            info["debian"] = handle.read().strip()
    except (OSError, StopIteration):
        pass

    def version(argv):
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            return (done.stdout + done.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "unknown"

    info["dotnet"] = version(["dotnet", "--version"])
    info["nginx"] = version(["nginx", "-v"])
    info["wrk"] = version(["wrk", "-v"])
    return info


def machine_text(results):
    lines = [f"date: {results['date']}", f"command: {results['command']}", f"source: {results['source']}"]
    lines += [f"{key}: {value}" for key, value in results["machine"].items()]
    lines += [f"load average before: {results['load_average_before']}", f"load average after: {results['load_average_after']}"]
    return "\n".join(lines) + "\n"


def render_markdown(results, scenarios):
    m, s, g = results["machine"], results["settings"], results["gateway"]
    out = [f"# Load run {results['date']}", "",
           f"Command: `{results['command']}`  ",
           f"Gateway measured: {results['source'] or 'given binary'}  ",
           f"Machine: {m.get('cores')} cores ({m.get('cpu', '?')}), {m.get('memory', '?')}, Debian {m.get('debian', '?')}, "
           f"kernel {m.get('kernel')}, .NET SDK {m.get('dotnet')}, {m.get('nginx')}, {m.get('wrk')}  ",
           f"Load average: {results['load_average_before']} before, {results['load_average_after']} after (1/5/15 min; the run itself adds about 2-3)  ",
           f"Settings: {s['rounds']} rounds x {s['duration_s']} s per peer and scenario (after {s['warmup_s']} s warm-up), alternating order, "
           f"wrk {s['wrk_threads']} threads / {s['connections']} connections; peers on CPUs {s['peer_cpus']}, wrk and upstream on CPUs {s['driver_cpus']}. "
           f"Script: {s['script_bytes']} B, {s['script_brotli_bytes']} B Brotli.", "",
           "Medians over rounds; peak RSS/PSS is the highest over rounds (nginx: master + workers summed, so its RSS counts shared pages "
           "three times; PSS divides them). Ratios are to nginx in the same run "
           "(req/s: higher is better; latency, RSS, CPU: lower is better). CPU/req is the peer's own user+system CPU per request.", "",
           "| Scenario | Peer | req/s | x nginx | p50 ms | x nginx | p99 ms | x nginx | peak RSS MB | x nginx | peak PSS MB | x nginx | CPU us/req | x nginx | checks |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for scenario in scenarios:
        for peer in PEERS + [FLOOR]:
            v = results["summary"].get(f"{scenario}/{peer}")
            if not v:
                continue

            def ratio(key):
                return f"{v[key]:.2f}" if key in v else "-"
            checks = "ok" if v["all_ok"] else "FAILED"
            if scenario == "collect":
                checks = "all forwarded" if v["all_ok"] else "NOT all forwarded"
                if peer == FLOOR:
                    checks = "reference: 204, no upstream" if v["all_ok"] else "FAILED"
            elif scenario == "capi":
                checks = "all 202, accepted" if v["all_ok"] else "NOT all accepted"
            out.append(f"| {scenario} | {peer} | {v['rps']:.0f} | {ratio('rps_ratio')} | {v['p50_ms']:.2f} | {ratio('p50_ratio')} | "
                       f"{v['p99_ms']:.2f} | {ratio('p99_ratio')} | {v['peak_rss_kb'] / 1024:.1f} | {ratio('rss_ratio')} | "
                       f"{v['peak_pss_kb'] / 1024:.1f} | {ratio('pss_ratio')} | "
                       f"{v['cpu_us_per_request']:.1f} | {ratio('cpu_ratio')} | {checks} |")
    hit = results["summary"].get("collect/gateway", {})
    if "rps_vs_yarp" in hit:
        out += ["", f"Gateway vs YARP on hits: {hit['rps_vs_yarp']:.2f}x the requests per second."]
    floor_v, nginx_v = results["summary"].get(f"collect/{FLOOR}"), results["summary"].get("collect/nginx")
    if floor_v and nginx_v and hit:
        out += ["", f"Kestrel floor (Kestrel alone reading each hit and answering 204, no upstream call): "
                    f"{floor_v['cpu_us_per_request']:.1f} us CPU per hit, {floor_v['cpu_ratio']:.2f}x what nginx spends on a whole proxied hit "
                    f"({nginx_v['cpu_us_per_request']:.1f} us); the gateway spends {hit['cpu_us_per_request']:.1f} us, of which "
                    f"{hit['cpu_us_per_request'] - floor_v['cpu_us_per_request']:.1f} us above the floor (the upstream exchange and the hit's own work)."]
    cold = g["cold_start_median"]
    out += ["", "## Gateway alone", "",
            f"- Native binary: {g['binary_bytes'] / 1e6:.1f} MB",
            f"- Start to listening: {cold.get('listening_ms', 0):.1f} ms; to the first response (/metrics/healthy): {cold.get('first_response_ms', 0):.1f} ms",
            f"- Start to the first served script, cold cache: {cold.get('first_script_ms', 0):.1f} ms, of which "
            f"{cold.get('first_script_after_listening_ms', 0):.1f} ms after the first response (upstream fetch {cold.get('upstream_fetch_ms') or 0:.1f} ms, "
            f"the rest Brotli 11 + gzip of the body); the next request, from cache: {cold.get('second_script_ms', 0):.2f} ms "
            f"(median of {len(g['cold_starts'])} starts)",
            f"- Idle RSS: {g['idle_rss_fresh_kb'] / 1024:.1f} MB after start, {g['idle_rss_cached_kb'] / 1024:.1f} MB with the script cached; "
            f"peak under load {g['load_rss_peak_kb'] / 1024:.1f} MB (hits and scripts), {g.get('capi_load_rss_peak_kb', 0) / 1024:.1f} MB (CAPI ingest, second instance); "
            f"{results['idle_rss_after_load_kb']['gateway'] / 1024:.1f} MB idle after the load",
            f"- Idle RSS of the peers: nginx {results['idle_rss_kb']['nginx'] / 1024:.1f} MB, YARP {results['idle_rss_kb']['yarp'] / 1024:.1f} MB",
            f"- CAPI server-to-server events: {results['capi']}",
            "", "## Targets", "", "| Target | Measured | Goal | Met |", "|---|---|---|---|"]
    for t in results["targets"]:
        out.append(f"| {t['target']} | {t['measured']} | {t['goal']} | {'yes' if t['met'] else '**no**'} |")
    out += ["", "## Rounds", "", "| Round | Scenario | Peer | req/s | p50 ms | p99 ms | peak RSS MB | CPU us/req | foreign cores | load avg | upstream got | wrk completed |",
            "|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|"]
    for x in results["rounds"]:
        out.append(f"| {x['round']} | {x['scenario']} | {x['peer']} | {x['rps']:.0f} | {x['p50_ms']:.2f} | {x['p99_ms']:.2f} | "
                   f"{x['peak_rss_kb'] / 1024:.1f} | {x['peer_cpu_us_per_request']:.1f} | {x['foreign_cores']:.2f} | {x['loadavg']} | "
                   f"{x.get('upstream_received', '-')} | {x['requests']} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        cleanup()
