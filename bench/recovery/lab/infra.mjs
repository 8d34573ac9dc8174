// What the harness starts around the browser: a throwaway certificate, nginx terminating TLS for every lab host,
// and the gateway. Each start returns a stop function; the harness stops everything on exit.
import { spawn, execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync, openSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

export const THIRD_PARTY_HOSTS = [
  "www.googletagmanager.com",
  "region1.google-analytics.com",
  "www.google.com",
  "www.googleadservices.com",
  "connect.facebook.net",
  "www.facebook.com",
];

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function makeCertificate(dir, hosts) {
  const key = join(dir, "lab.key");
  const crt = join(dir, "lab.crt");
  execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=recovery lab", "-keyout", key, "-out", crt, "-addext", `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(",")}`], { stdio: "ignore" });
  return { key, crt };
}

export async function startNginx({ work, shopHost, labPort, gatewayPort, measurementPath, region, cert }) {
  const port = await freePort();
  const dir = join(work, "nginx");
  for (const d of ["", "tmp"]) mkdirSync(join(dir, d), { recursive: true });
  const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `${t}_temp_path ${dir}/tmp/${t};`).join("\n  ");
  const conf = `
user root;
worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  ${temp}
  ssl_certificate ${cert.crt};
  ssl_certificate_key ${cert.key};
  upstream lab { server 127.0.0.1:${labPort}; keepalive 32; }
  upstream gateway { server 127.0.0.1:${gatewayPort}; keepalive 32; }
  proxy_http_version 1.1;
  proxy_set_header Connection "";
  proxy_set_header Host $host;
  server {
    listen 127.0.0.1:${port} ssl;
    server_name ${shopHost};
    # The site's edge sends the measurement path (and nothing else) to the gateway, as edge-config/vm/ does.
    location ${measurementPath}/ {
      proxy_pass http://gateway;
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_set_header X-Forwarded-Proto https;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-CountryRegion ${region};
    }
    location / { proxy_pass http://lab; }
  }
  server {
    listen 127.0.0.1:${port} ssl default_server;
    server_name _;
    location / { proxy_pass http://lab; }
  }
}
`;
  writeFileSync(join(dir, "nginx.conf"), conf);
  execFileSync("nginx", ["-t", "-q", "-p", dir, "-c", join(dir, "nginx.conf")], { stdio: "pipe" });
  const log = openSync(join(dir, "stdout.log"), "a");
  const child = spawn("nginx", ["-p", dir, "-c", join(dir, "nginx.conf")], { stdio: ["ignore", log, log] });
  await waitFor(async () => tcpOpen(port), 10_000, "nginx");
  return { port, stop: () => stopChild(child) };
}

export async function startGateway({ gatewayBin, work, labPort, gatewayPort, managementPort, measurementPath, tagIds, capi, ga4GapFill }) {
  const lab = `http://127.0.0.1:${labPort}`;
  const env = {
    ...process.env,
    ASPNETCORE_ENVIRONMENT: "Production",
    DOTNET_gcServer: "0",
    Logging__LogLevel__Default: "Warning",
    Gateway__PublicUrl: `http://127.0.0.1:${gatewayPort}`,
    Gateway__ManagementUrl: `http://127.0.0.1:${managementPort}`,
    Gateway__MeasurementPath: measurementPath,
    Gateway__Mode: "Direct",
    Gateway__Upstreams__TagManager: lab,
    Gateway__Upstreams__Analytics: lab,
    Gateway__Upstreams__Ads: lab,
    Gateway__ClientIdentity__Edge: "ReverseProxy",
  };
  tagIds.forEach((id, i) => (env[`Gateway__TagIds__${i}`] = id));
  if (capi) {
    Object.assign(env, {
      Capi__Ingest__ApiKeys__0: capi.apiKey,
      Capi__Store__Path: join(work, "capi-store"),
      Capi__Meta__PixelId: capi.metaPixel,
      Capi__Meta__AccessToken: "lab-token",
      Capi__Meta__BaseUrl: lab,
      Capi__GoogleAds__CustomerId: "1234567890",
      Capi__GoogleAds__ConversionActions__purchase: "987654321",
      Capi__GoogleAds__AccessToken: "lab-token",
      Capi__GoogleAds__BaseUrl: lab,
    });
    if (ga4GapFill) {
      // Only set when this gateway has the destination at all. The window is short (default 2 min in production) so
      // the run can wait it out before counting; every browser hit of a purchase precedes the backend's report here.
      Object.assign(env, {
        Capi__GoogleAnalytics__MeasurementId: capi.ga4Id,
        Capi__GoogleAnalytics__ApiSecret: "lab-secret",
        Capi__GoogleAnalytics__BaseUrl: lab,
        Capi__GoogleAnalytics__GapFillWindow: `00:00:${String(capi.ga4WindowSeconds).padStart(2, "0")}`,
      });
    }
  }
  const isDll = gatewayBin.endsWith(".dll");
  const log = openSync(join(work, "gateway.log"), "a");
  const child = spawn(isDll ? "dotnet" : gatewayBin, isDll ? [gatewayBin] : [], { env, stdio: ["ignore", log, log], cwd: work });
  let exited = null;
  child.on("exit", (code) => (exited = code));
  await waitFor(async () => {
    if (exited !== null) throw new Error(`the gateway exited with code ${exited}: see ${join(work, "gateway.log")}`);
    const r = await fetch(`http://127.0.0.1:${managementPort}/readyz`).catch(() => null);
    return r?.ok === true;
  }, 60_000, "the gateway");
  return { stop: () => stopChild(child) };
}

async function tcpOpen(port) {
  const { connect } = await import("node:net");
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1", () => {
      s.end();
      resolve(true);
    });
    s.on("error", () => resolve(false));
  });
}

export async function waitFor(check, timeoutMs, what) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`${what} did not come up in ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGKILL"), 5000).unref();
  });
}
