// edge-config/vm: the systemd unit (systemd-analyze verify, hardening), the
// install script, and Debian's nginx (and Caddy, when installed) in front of
// the gateway with the shipped snippets, end to end on loopback.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import http from "node:http";
import { spawn, spawnSync } from "node:child_process";
import { EDGE_DIR, TEST_DIR, freePort, waitFor, tempDir, parseEnvFile, request } from "./lib/util.mjs";
import { startFakeUpstream, FAKE_COOKIES } from "./lib/fake-upstream.mjs";
import { startGateway, gatewayKind, TAG_IDS } from "./lib/gateway.mjs";

const VM_DIR = path.join(EDGE_DIR, "vm");
const UNIT = path.join(VM_DIR, "taggateway.service");
const ENV_FILE = path.join(VM_DIR, "taggateway.env");
const INSTALL = path.join(VM_DIR, "install.sh");
const has = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;

// Visitors are other loopback addresses, so nginx sees a real, distinct client.
const VISITOR = "127.0.0.77"; // has a geo entry
const VISITOR_NO_GEO = "127.0.0.88";

/** The binary the install test installs: the real gateway, or any ELF for the stub run. */
const installBinary = () => process.env.TAGGATEWAY_BIN || "/bin/true";
const sha256 = (file) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

/** Unit file as { section: { key: [values] } }. */
function parseUnit(text) {
  const out = {};
  let section;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const m = /^\[(.+)\]$/.exec(line);
    if (m) {
      section = out[m[1]] ??= {};
      continue;
    }
    const eq = line.indexOf("=");
    (section[line.slice(0, eq)] ??= []).push(line.slice(eq + 1));
  }
  return out;
}

/** The gateway configured from the shipped env file (ports, tag IDs and upstream from the test). */
function envFromFile() {
  const env = parseEnvFile(fs.readFileSync(ENV_FILE, "utf8"));
  for (const k of Object.keys(env)) if (/^Gateway__(PublicUrl|ManagementUrl|TagIds__\d+)$/.test(k)) delete env[k];
  return env;
}

function runInstall(args) {
  return spawnSync("bash", [INSTALL, ...args], { encoding: "utf8" });
}

describe("systemd unit", () => {
  const unit = parseUnit(fs.readFileSync(UNIT, "utf8"));
  const svc = unit.Service;
  const one = (k) => (svc[k] || []).at(-1);

  it("runs the installed binary as a dedicated user with its configuration file", () => {
    assert.equal(one("ExecStart"), "/usr/local/bin/taggateway");
    assert.equal(one("User"), "taggateway");
    assert.equal(one("Group"), "taggateway");
    assert.equal(one("EnvironmentFile"), "/etc/taggateway/taggateway.env");
    assert.equal(unit.Install.WantedBy[0], "multi-user.target");
  });

  it("is hardened", () => {
    const expected = {
      ProtectSystem: "strict", ProtectHome: "yes", PrivateTmp: "yes", PrivateDevices: "yes", NoNewPrivileges: "yes",
      ProtectKernelTunables: "yes", ProtectKernelModules: "yes", ProtectControlGroups: "yes", RestrictSUIDSGID: "yes",
      LockPersonality: "yes", MemoryDenyWriteExecute: "yes", CapabilityBoundingSet: "", SystemCallArchitectures: "native",
    };
    for (const [k, v] of Object.entries(expected)) assert.equal(one(k), v, k);
    assert.match(svc.RestrictAddressFamilies.join(" "), /AF_INET AF_INET6/);
    assert.ok(svc.SystemCallFilter.includes("@system-service"));
  });

  it("keeps its state (the CAPI store) in a state directory writable under ProtectSystem=strict", () => {
    assert.equal(one("StateDirectory"), "taggateway");
    assert.equal(one("WorkingDirectory"), "/var/lib/taggateway");
  });

  it("restarts on failure and stops gracefully within the drain budget", () => {
    assert.equal(one("Restart"), "on-failure");
    assert.ok(one("RestartSec"));
    assert.equal(one("KillSignal"), "SIGTERM");
    const stopSec = parseInt(one("TimeoutStopSec"), 10);
    const drainSec = parseInt(parseEnvFile(fs.readFileSync(ENV_FILE, "utf8")).DOTNET_SHUTDOWNTIMEOUTSECONDS, 10);
    assert.ok(drainSec > 0 && drainSec < stopSec, `drain ${drainSec}s must end before SIGKILL at ${stopSec}s`);
  });

  it("passes systemd-analyze verify (installed into a scratch root by install.sh)", { skip: !has("systemd-analyze") && "systemd-analyze not installed" }, () => {
    const dir = tempDir("verify");
    const root = path.join(dir, "root");
    const bin = installBinary();
    const r = runInstall(["--binary", bin, "--sha256", sha256(bin), "--root", root]);
    assert.equal(r.status, 0, r.stderr);
    // The scratch root needs systemd's own units (sysinit.target, ...).
    fs.mkdirSync(path.join(root, "usr/lib/systemd"), { recursive: true });
    fs.cpSync("/lib/systemd/system", path.join(root, "usr/lib/systemd/system"), { recursive: true, verbatimSymlinks: true });
    const v = spawnSync("systemd-analyze", ["verify", `--root=${root}`, "--man=no", "/etc/systemd/system/taggateway.service"], { encoding: "utf8" });
    assert.equal(v.status, 0, v.stderr + v.stdout);
    assert.equal((v.stderr + v.stdout).trim(), "", "no warnings");
  });

  it("systemd-analyze verify does flag a broken unit (the check is real)", { skip: !has("systemd-analyze") && "systemd-analyze not installed" }, () => {
    const dir = tempDir("verify-bad");
    const bad = path.join(dir, "taggateway.service");
    fs.writeFileSync(bad, fs.readFileSync(UNIT, "utf8").replace("ExecStart=/usr/local/bin/taggateway", "ExecStart=/bin/true").replace("ProtectSystem=strict", "ProtectSystem=strictest"));
    const v = spawnSync("systemd-analyze", ["verify", "--man=no", bad], { encoding: "utf8" });
    assert.match(v.stderr + v.stdout, /ProtectSystem|protect system/i);
  });
});

describe("install.sh", () => {
  it("refuses a binary whose checksum does not match, and installs nothing", () => {
    const root = path.join(tempDir("install-bad"), "root");
    const r = runInstall(["--binary", installBinary(), "--sha256", "0".repeat(64), "--root", root]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /checksum mismatch/);
    assert.ok(!fs.existsSync(root) || fs.readdirSync(root).length === 0, "nothing written");
  });

  it("requires a checksum", () => {
    const r = runInstall(["--binary", installBinary(), "--root", path.join(tempDir("install-nosum"), "root")]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /checksum is required/);
  });

  it("refuses something that is not an executable", () => {
    const dir = tempDir("install-notelf");
    const file = path.join(dir, "TagGateway");
    fs.writeFileSync(file, "#!/bin/sh\necho not the gateway\n");
    const r = runInstall(["--binary", file, "--sha256", sha256(file), "--root", path.join(dir, "root")]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /not an ELF/);
  });

  it("installs binary, unit and configuration; a second run upgrades and keeps the edited configuration", () => {
    const dir = tempDir("install-ok");
    const root = path.join(dir, "root");
    const bin = installBinary();
    const sumFile = path.join(dir, "TagGateway.sha256");
    fs.writeFileSync(sumFile, `${sha256(bin)}  TagGateway\n`);
    let r = runInstall(["--binary", bin, "--sha256-file", sumFile, "--root", root]);
    assert.equal(r.status, 0, r.stderr);
    const installed = path.join(root, "usr/local/bin/taggateway");
    assert.equal(sha256(installed), sha256(bin));
    assert.equal(fs.statSync(installed).mode & 0o777, 0o755);
    const envPath = path.join(root, "etc/taggateway/taggateway.env");
    assert.equal(fs.statSync(envPath).mode & 0o777, 0o640);
    assert.equal(fs.readFileSync(path.join(root, "etc/systemd/system/taggateway.service"), "utf8"), fs.readFileSync(UNIT, "utf8"));
    fs.appendFileSync(envPath, "Gateway__TagIds__1=GTM-EDITED1\n");
    r = runInstall(["--binary", bin, "--sha256", sha256(bin).toUpperCase(), "--root", root]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /kept existing/);
    assert.match(fs.readFileSync(envPath, "utf8"), /GTM-EDITED1/);
    assert.deepEqual(fs.readdirSync(path.join(root, "usr/local/bin")), ["taggateway"], "no temporary files left");
  });

  it("passes shellcheck", { skip: !has("shellcheck") && "shellcheck not installed" }, () => {
    const r = spawnSync("shellcheck", ["-x", INSTALL, path.join(TEST_DIR, "run.sh")], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});

describe("the gateway as the unit runs it", () => {
  let upstream;
  before(async () => {
    upstream = await startFakeUpstream();
  });
  after(async () => {
    await upstream?.close();
  });

  it("SIGTERM drains an in-flight hit, then the process exits 0", async () => {
    const gw = await startGateway({ name: "drain", upstream: upstream.origin, env: envFromFile() });
    try {
      const started = Date.now();
      const inflight = request(`${gw.url}/metrics/g/collect?v=2&tid=${TAG_IDS[0]}&en=page_view&_slow=1500`, { method: "POST", body: "" });
      await waitFor(() => upstream.requests.some((r) => r.url.includes("_slow=1500")), { timeoutMs: 5000, what: "hit reached upstream" });
      process.kill(gw.pid, "SIGTERM");
      const res = await inflight;
      assert.equal(res.status, 204, "the in-flight hit completed");
      assert.deepEqual(res.setCookies.slice(0, FAKE_COOKIES.length), FAKE_COOKIES);
      let timer;
      const exit = await Promise.race([gw.exited, new Promise((r) => (timer = setTimeout(() => r("timeout"), 20000)))]);
      clearTimeout(timer);
      assert.notEqual(exit, "timeout", "exited after draining");
      assert.ok(exit.code === 0 || exit.code === 143, `exit ${JSON.stringify(exit)}`);
      assert.ok(Date.now() - started < 15000);
      await assert.rejects(request(`${gw.url}/metrics/g/collect?v=2`, { timeoutMs: 2000 }), "no longer listening");
    } finally {
      await gw.stop("SIGKILL");
    }
  });

  it("runs under MemoryDenyWriteExecute (kernel PR_SET_MDWE), as the unit sets it", async (t) => {
    if (gatewayKind() !== "real") return t.skip("only the native binary (the stub is a JIT program)");
    if (!has("python3")) return t.skip("python3 not installed");
    const probe = spawnSync("python3", [path.join(TEST_DIR, "lib/mdwe.py"), "/bin/true"]);
    if (probe.status !== 0) return t.skip("this kernel has no PR_SET_MDWE (Linux < 6.3)");
    const gw = await startGateway({ name: "mdwe", upstream: upstream.origin, env: envFromFile(), wrap: ["python3", path.join(TEST_DIR, "lib/mdwe.py")] });
    try {
      const script = await request(`${gw.url}/metrics/gtag/js?id=${TAG_IDS[0]}&l=dataLayerMdwe`);
      assert.equal(script.status, 200);
      const hit = await request(`${gw.url}/metrics/g/collect?v=2&tid=${TAG_IDS[0]}&en=mdwe`, { method: "POST", body: "x" });
      assert.equal(hit.status, 204);
    } finally {
      await gw.stop();
    }
  });
});

/** Shared end-to-end checks for a web server on `base` fronting the gateway. */
function frontedSuite(name, start, { geo }) {
  describe(`${name} in front of the gateway (shipped snippet)`, () => {
    let upstream, gateway, server, base;
    before(async () => {
      upstream = await startFakeUpstream();
      gateway = await startGateway({ name, upstream: upstream.origin, env: envFromFile() });
      server = await start(gateway.port);
      base = server.base;
    });
    after(async () => {
      await server?.stop();
      await gateway?.stop();
      await upstream?.close();
    });
    const get = (p, opts = {}) => request(base + p, { localAddress: VISITOR, ...opts, headers: { host: "www.example.com", ...(opts.headers || {}) } });

    it("serves gtag.js; the gateway resolves the visitor's location", async () => {
      const m = upstream.mark();
      const res = await get(`/metrics/gtag/js?id=${TAG_IDS[0]}&l=dataLayer${name}1`);
      assert.equal(res.status, 200, res.text);
      assert.match(res.headers["content-type"], /javascript/);
      assert.match(res.text, /fake google tag G-ABC123/);
      const [up] = upstream.since(m, "/metrics/gtag/js");
      assert.equal(up.url, `/metrics/gtag/js?id=${TAG_IDS[0]}&l=dataLayer${name}1`);
      if (geo) assert.equal(up.headers["x-forwarded-countryregion"], "NL-NH");
      assert.ok([undefined, VISITOR].includes(up.headers["x-forwarded-for"]));
    });

    it("forwards a hit with the visitor IP, geo and cookies; both Set-Cookie headers come back", async () => {
      const m = upstream.mark();
      const payload = "en=page_view&dl=https%3A%2F%2Fwww.example.com%2F";
      const res = await get(`/metrics/g/collect?v=2&tid=${TAG_IDS[0]}&cid=1.2&en=page_view`, {
        method: "POST",
        headers: { "content-type": "text/plain;charset=UTF-8", cookie: "_ga=GA1.1.1.2; FPID=FPID2.2.old" },
        body: payload,
      });
      assert.equal(res.status, 204);
      assert.deepEqual(res.setCookies.slice(0, FAKE_COOKIES.length), FAKE_COOKIES);
      const [up] = upstream.since(m, "/metrics/g/collect");
      assert.ok(up);
      assert.equal(up.headers["x-forwarded-for"], VISITOR);
      if (geo) assert.equal(up.headers["x-forwarded-countryregion"], "NL-NH");
      else assert.equal(up.headers["x-forwarded-countryregion"], undefined);
      assert.match(up.headers.cookie || "", /_ga=GA1\.1\.1\.2/);
      assert.equal(up.bodyLength, Buffer.byteLength(payload));
    });

    it("relays a 40 KB response header (Tag Assistant debugging) without a 502", async () => {
      const res = await get(`/metrics/g/collect?v=2&tid=${TAG_IDS[0]}&en=debug&_bigheader=40000`);
      assert.equal(res.status, 204);
      assert.equal(res.headers["x-encrypted-debug-headers"]?.length, 40000);
      assert.deepEqual(res.setCookies.slice(0, FAKE_COOKIES.length), FAKE_COOKIES);
    });

    it("a visitor with no known location: IP only", async () => {
      const m = upstream.mark();
      const res = await get(`/metrics/g/collect?v=2&tid=${TAG_IDS[0]}&en=nogeo`, { localAddress: VISITOR_NO_GEO });
      assert.equal(res.status, 204);
      const [up] = upstream.since(m, "/metrics/g/collect");
      assert.equal(up.headers["x-forwarded-for"], VISITOR_NO_GEO);
      assert.equal(up.headers["x-forwarded-countryregion"], undefined);
    });

    it("ignores identity headers a visitor sends", async () => {
      const m = upstream.mark();
      const res = await get(`/metrics/g/collect?v=2&tid=${TAG_IDS[0]}&en=spoof`, {
        localAddress: VISITOR_NO_GEO,
        headers: {
          "X-Forwarded-For": "6.6.6.6",
          "X-Real-IP": "6.6.6.6",
          "X-Forwarded-CountryRegion": "US-TX",
          "X-Forwarded-Country": "US",
          "X-Forwarded-Region": "TX",
          "X-TagGateway-Client-IP": "6.6.6.6",
          "X-TagGateway-Country": "US",
          "CF-Connecting-IP": "6.6.6.6",
        },
      });
      assert.equal(res.status, 204);
      const [up] = upstream.since(m, "/metrics/g/collect");
      assert.equal(up.headers["x-forwarded-for"], VISITOR_NO_GEO);
      assert.equal(up.headers["x-forwarded-countryregion"], undefined);
    });

    it("leaves every other path to the site", async () => {
      const m = upstream.mark();
      for (const p of ["/", "/shop/cart?x=1", "/metricsfoo", "/metric", "/assets/metrics/app.js"]) {
        const res = await get(p);
        assert.equal(res.status, 200, p);
        assert.equal(res.headers["x-served-by"], "site-origin", p);
      }
      assert.equal(upstream.since(m).length, 0);
    });

    it("sends the bare measurement path to the gateway", async () => {
      const m = upstream.mark();
      await get("/metrics?validate_geo=healthy");
      assert.equal(upstream.since(m)[0]?.url, "/metrics?validate_geo=healthy");
    });

    it("relays a redirect untouched", async () => {
      const res = await get("/metrics/redirect-test");
      assert.equal(res.status, 302);
      assert.equal(res.headers.location, "https://www.example.com/metrics/landing?from=redirect");
    });

    it("streams the response", async () => {
      const id = `${name}-stream`;
      const text = await new Promise((resolve, reject) => {
        const req = http.request(`${base}/metrics/stream-test?id=${id}`, { headers: { host: "www.example.com" }, localAddress: VISITOR, agent: false }, (res) => {
          let body = "";
          let released = false;
          res.setEncoding("utf8");
          res.on("data", (c) => {
            body += c;
            if (!released && body.includes("first-chunk")) {
              released = true;
              request(`${upstream.origin}/__release?id=${id}`).then((r) => { if (r.status !== 200) reject(new Error("upstream had already finished: not streamed")); }, reject);
            }
          });
          res.on("end", () => resolve(body));
        });
        req.on("error", reject);
        req.end();
      });
      assert.equal(text, "first-chunk\nsecond-chunk\n");
    });
  });
}

// --- nginx --------------------------------------------------------------

function substitute(text, file, pairs) {
  for (const [from, to] of pairs) {
    assert.ok(text.includes(from), `${file} still contains ${from}`);
    text = text.split(from).join(to);
  }
  return text;
}

async function startNginx(gatewayPort, { secret } = {}) {
  const dir = tempDir("nginx");
  fs.chmodSync(dir, 0o755); // workers run as nobody
  const port = await freePort();
  const read = (f) => fs.readFileSync(path.join(VM_DIR, "nginx", f), "utf8");
  const snippets = path.join(dir, "snippets");
  fs.mkdirSync(snippets);
  const geoRanges = path.join(dir, "taggateway-geo-ranges.conf");
  fs.writeFileSync(geoRanges, read("taggateway-geo-ranges.conf") + `${VISITOR}/32 NL-NH;\n`);
  fs.writeFileSync(path.join(dir, "taggateway-http.conf"), substitute(read("taggateway-http.conf"), "taggateway-http.conf", [
    ["server 127.0.0.1:8080;", `server 127.0.0.1:${gatewayPort};`],
    ["/etc/nginx/taggateway-geo-ranges.conf", geoRanges],
  ]));
  fs.writeFileSync(path.join(snippets, "taggateway-locations.conf"), substitute(read("taggateway-locations.conf"), "taggateway-locations.conf", [["/etc/nginx/snippets/", `${snippets}/`]]));
  let proxyConf = read("taggateway-proxy.conf");
  // The README's instruction for Gateway__ClientIdentity__EdgeSecret: put the value in this line.
  if (secret) proxyConf = substitute(proxyConf, "taggateway-proxy.conf", [['proxy_set_header X-TagGateway-Secret "";', `proxy_set_header X-TagGateway-Secret "${secret}";`]]);
  fs.writeFileSync(path.join(snippets, "taggateway-proxy.conf"), proxyConf);
  const conf = path.join(dir, "nginx.conf");
  fs.writeFileSync(conf, `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log info;
events { worker_connections 256; }
http {
    access_log ${dir}/access.log;
    client_body_temp_path ${dir}/tmp-body;
    proxy_temp_path ${dir}/tmp-proxy;
    fastcgi_temp_path ${dir}/tmp-fastcgi;
    uwsgi_temp_path ${dir}/tmp-uwsgi;
    scgi_temp_path ${dir}/tmp-scgi;
    include ${dir}/taggateway-http.conf;
    server {
        listen 127.0.0.1:${port};
        server_name www.example.com;
        include ${snippets}/taggateway-locations.conf;
        location / {
            add_header X-Served-By site-origin always;
            return 200 "site: $request_uri\\n";
        }
    }
}
`);
  const test = spawnSync("nginx", ["-t", "-p", dir, "-c", conf], { encoding: "utf8" });
  assert.equal(test.status, 0, `nginx -t: ${test.stderr}`);
  const proc = spawn("nginx", ["-p", dir, "-c", conf, "-g", "daemon off;"], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr.on("data", (c) => (stderr += c));
  const exited = new Promise((resolve) => proc.on("exit", resolve));
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await request(`${base}/`, { timeoutMs: 500 })).status === 200, { timeoutMs: 10000, what: `nginx on ${port} (${stderr})` });
  return {
    base,
    async stop() {
      proc.kill("SIGQUIT");
      const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

// --- Caddy --------------------------------------------------------------

async function startCaddy(gatewayPort, { secret } = {}) {
  const dir = tempDir("caddy");
  const port = await freePort();
  const snippet = path.join(dir, "taggateway.caddy");
  const pairs = [["reverse_proxy 127.0.0.1:8080", `reverse_proxy 127.0.0.1:${gatewayPort}`]];
  // The snippet's instruction for Gateway__ClientIdentity__EdgeSecret.
  if (secret) pairs.push(["\t\theader_up -X-TagGateway-Secret\n", '\t\theader_up X-TagGateway-Secret "{env.TAGGATEWAY_EDGE_SECRET}"\n']);
  fs.writeFileSync(snippet, substitute(fs.readFileSync(path.join(VM_DIR, "caddy", "taggateway.caddy"), "utf8"), "taggateway.caddy", pairs));
  const caddyfile = path.join(dir, "Caddyfile");
  fs.writeFileSync(caddyfile, `{
	admin off
	auto_https off
}

http://:${port} {
	bind 127.0.0.1
	import ${snippet}
	handle {
		header X-Served-By site-origin
		respond "site: {uri}" 200
	}
}
`);
  const env = { PATH: process.env.PATH, HOME: dir, XDG_DATA_HOME: path.join(dir, "data"), XDG_CONFIG_HOME: path.join(dir, "config") };
  if (secret) env.TAGGATEWAY_EDGE_SECRET = secret;
  const v = spawnSync("caddy", ["validate", "--adapter", "caddyfile", "--config", caddyfile], { encoding: "utf8", env });
  assert.equal(v.status, 0, `caddy validate: ${v.stderr}`);
  const proc = spawn("caddy", ["run", "--adapter", "caddyfile", "--config", caddyfile], { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  proc.stderr.on("data", (c) => (stderr += c));
  const exited = new Promise((resolve) => proc.on("exit", resolve));
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await request(`${base}/`, { timeoutMs: 500 })).status === 200, { timeoutMs: 15000, what: `caddy on ${port} (${stderr.slice(-2000)})` });
  return {
    base,
    async stop() {
      proc.kill("SIGTERM");
      const t = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

if (has("nginx")) frontedSuite("nginx", startNginx, { geo: true });
else describe("nginx", () => it("is installed", () => assert.fail("nginx is not installed (run.sh installs it)")));

for (const [name, start] of [["nginx", startNginx], ["caddy", startCaddy]]) {
  if (!has(name)) continue;
  describe(`${name} with an edge secret (Gateway__ClientIdentity__EdgeSecret)`, () => {
    const SECRET = crypto.randomBytes(20).toString("hex");
    let upstream, gateway;
    const servers = [];
    before(async () => {
      upstream = await startFakeUpstream();
      gateway = await startGateway({ name: `${name}-secret`, upstream: upstream.origin, env: { ...envFromFile(), Gateway__ClientIdentity__EdgeSecret: SECRET } });
    });
    after(async () => {
      for (const s of servers) await s.stop();
      await gateway?.stop();
      await upstream?.close();
    });
    for (const [what, secret, ip, geo] of [
      ["with the secret in the snippet: trusted", SECRET, VISITOR, name === "nginx" ? "NL-NH" : undefined],
      ["as shipped, even when the visitor sends the secret: not trusted", undefined, "127.0.0.1", undefined],
    ]) {
      it(what, async () => {
        const server = await start(gateway.port, { secret });
        servers.push(server);
        const m = upstream.mark();
        const res = await request(`${server.base}/metrics/g/collect?v=2&tid=${TAG_IDS[0]}&en=secret`, { localAddress: VISITOR, headers: { "X-TagGateway-Secret": SECRET } });
        assert.equal(res.status, 204);
        const [up] = upstream.since(m, "/metrics/g/collect");
        assert.equal(up.headers["x-forwarded-for"], ip);
        assert.equal(up.headers["x-forwarded-countryregion"], geo);
      });
    }
  });
}

if (has("caddy")) frontedSuite("caddy", startCaddy, { geo: false });
else describe("caddy", () => it("is installed", { skip: "caddy is not installed (Debian: apt-get install caddy)" }, () => {}));
