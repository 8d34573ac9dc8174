// Starts the real gateway (TAGGATEWAY_BIN) on loopback ports with the
// configuration a test asks for, or the contract stub (stub-gateway.mjs) when
// TAGGATEWAY_STUB=1 and no binary is given.
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { freePort, waitFor, tempDir, request, TEST_DIR } from "./util.mjs";

export const TAG_IDS = ["G-ABC123", "GTM-XYZ789"];

export function gatewayKind() {
  if (process.env.TAGGATEWAY_BIN) return "real";
  if (process.env.TAGGATEWAY_STUB === "1") return "stub";
  throw new Error("TAGGATEWAY_BIN is not set (path to the published native TagGateway binary); set TAGGATEWAY_STUB=1 to run against the contract stub instead");
}

/**
 * env: extra Gateway__* variables; a value of null removes a default.
 * upstream: origin of the fake fps.goog (http://127.0.0.1:port).
 * wrap: optional argv prefix, e.g. ["python3", "mdwe.py"].
 */
export async function startGateway({ name, upstream, env = {}, wrap = [] }) {
  const kind = gatewayKind();
  const publicPort = await freePort();
  const managementPort = await freePort();
  const dir = tempDir(`gateway-${name}`);
  const full = {
    PATH: process.env.PATH,
    HOME: dir,
    Gateway__PublicUrl: `http://127.0.0.1:${publicPort}`,
    Gateway__ManagementUrl: `http://127.0.0.1:${managementPort}`,
    Gateway__MeasurementPath: "/metrics",
    Gateway__Demo__Enabled: "false",
    Gateway__TagIds__0: TAG_IDS[0],
    Gateway__TagIds__1: TAG_IDS[1],
    Gateway__Upstreams__TagGatewayOrigin: upstream,
  };
  for (const [k, v] of Object.entries(env)) {
    if (v === null || v === undefined) delete full[k];
    else full[k] = String(v);
  }
  const argv =
    kind === "real"
      ? [...wrap, process.env.TAGGATEWAY_BIN]
      : [...wrap, process.execPath, path.join(TEST_DIR, "lib", "stub-gateway.mjs")];
  const logPath = path.join(dir, "gateway.log");
  const log = fs.openSync(logPath, "a");
  fs.writeSync(log, `# ${argv.join(" ")}\n# env: ${JSON.stringify(full)}\n`);
  const proc = spawn(argv[0], argv.slice(1), { env: full, cwd: dir, stdio: ["ignore", log, log] });
  let exit = null;
  const exited = new Promise((resolve) => proc.on("exit", (code, signal) => resolve((exit = { code, signal }))));

  const url = `http://127.0.0.1:${publicPort}`;
  const managementUrl = `http://127.0.0.1:${managementPort}`;
  try {
    await waitFor(
      async () => {
        if (exit) return true;
        const r = await request(`${managementUrl}/readyz`, { timeoutMs: 1000 });
        return r.status === 200;
      },
      { timeoutMs: 30000, what: `gateway ${name} /readyz`, intervalMs: 150 },
    );
    if (exit) throw new Error(`gateway exited at start-up (${JSON.stringify(exit)})`);
  } catch (err) {
    proc.kill("SIGKILL");
    err.message += `\n--- gateway log (${logPath}) ---\n${readTail(logPath)}`;
    throw err;
  }

  return {
    kind,
    url,
    managementUrl,
    port: publicPort,
    pid: proc.pid,
    env: full,
    logPath,
    log: () => readTail(logPath),
    exited,
    get exit() {
      return exit;
    },
    async stop(signal = "SIGTERM", timeoutMs = 15000) {
      if (exit) return exit;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

function readTail(p, max = 4000) {
  try {
    const s = fs.readFileSync(p, "utf8");
    return s.length > max ? s.slice(-max) : s;
  } catch {
    return "(no log)";
  }
}
