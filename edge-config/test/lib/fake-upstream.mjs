// Stand-in for https://{tagId}.fps.goog (and, with role "site", for a site's
// own origin). Records every request it gets and answers like Google would on
// the paths the tests use.
import http from "node:http";
import crypto from "node:crypto";

export const FAKE_COOKIES = [
  "FPID=FPID2.2.fake-client-id.1700000000; Path=/; Max-Age=34560000; HttpOnly; Secure; SameSite=Lax",
  "FPLC=fake-linker%2Bvalue; Path=/; Max-Age=72000; Secure; SameSite=Lax",
];

export async function startFakeUpstream({ role = "upstream", port = 0 } = {}) {
  const requests = [];
  const releases = new Map(); // stream id -> release()

  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const record = {
        method: req.method,
        url: req.url,
        path: req.url.split("?")[0],
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        bodyLength: body.length,
        bodySha256: crypto.createHash("sha256").update(body).digest("hex"),
        remoteAddress: req.socket.remoteAddress,
        at: Date.now(),
      };
      const u = new URL(req.url, "http://x");
      // Control endpoints used by the tests themselves are not recorded.
      if (u.pathname === "/__release") {
        const release = releases.get(u.searchParams.get("id"));
        if (release) release();
        res.writeHead(release ? 200 : 404).end();
        return;
      }
      requests.push(record);
      if (role === "site") {
        res.writeHead(200, { "content-type": "text/plain", "x-served-by": "site-origin" });
        res.end(`site: ${req.method} ${req.url}\n`);
        return;
      }
      answer(u, req, res, body, releases);
    });
  });

  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  const actualPort = server.address().port;
  return {
    port: actualPort,
    origin: `http://127.0.0.1:${actualPort}`,
    requests,
    /** Requests recorded since `mark` (an index from `mark()`), optionally filtered by path. */
    mark: () => requests.length,
    since: (mark, pathPrefix) => requests.slice(mark).filter((r) => !pathPrefix || r.path.startsWith(pathPrefix)),
    last: (pathPrefix) => [...requests].reverse().find((r) => !pathPrefix || r.path.startsWith(pathPrefix)),
    close: () =>
      new Promise((resolve) => {
        for (const release of releases.values()) release();
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

function answer(u, req, res, body, releases) {
  const p = u.pathname;
  const isScript = /\/(gtag\/js|gtm\.js|gtag\.js)$/.test(p);
  if (isScript) {
    const id = u.searchParams.get("id") || "none";
    res.writeHead(200, {
      "content-type": "application/javascript; charset=utf-8",
      "cache-control": "public, max-age=300",
    });
    res.end(req.method === "HEAD" ? undefined : `/* fake google tag ${id} served for ${p} */\nwindow.__fakeTag=${JSON.stringify(id)};\n`);
    return;
  }
  if (p.endsWith("/g/collect")) {
    const delay = Number(u.searchParams.get("_slow") || 0);
    // Tag Assistant debugging adds a very large x-encrypted-debug-headers header.
    const big = Math.min(Number(u.searchParams.get("_bigheader") || 0), 60000);
    const send = () => {
      const headers = { "set-cookie": FAKE_COOKIES, "cache-control": "no-cache, no-store, must-revalidate" };
      if (big > 0) headers["x-encrypted-debug-headers"] = "d".repeat(big);
      res.writeHead(204, headers);
      res.end();
    };
    if (delay > 0) setTimeout(send, delay);
    else send();
    return;
  }
  if (p.endsWith("/redirect-test")) {
    res.writeHead(302, {
      location: "https://www.example.com/metrics/landing?from=redirect",
      "set-cookie": ["FPGCLAW=redirect-cookie; Path=/; Secure"],
    });
    res.end();
    return;
  }
  if (p.endsWith("/stream-test")) {
    // First chunk now; the rest only once the client has seen the first
    // (it calls /__release?id=...), or after 5 s with a marker saying it was late.
    const id = u.searchParams.get("id") || "0";
    res.writeHead(200, { "content-type": "text/plain", "cache-control": "no-store" });
    res.write("first-chunk\n");
    let done = false;
    const finish = (late) => {
      if (done) return;
      done = true;
      releases.delete(id);
      clearTimeout(timer);
      res.end(late ? "late\n" : "second-chunk\n");
    };
    const timer = setTimeout(() => finish(true), 5000);
    releases.set(id, () => finish(false));
    return;
  }
  if (p.endsWith("/echo-body")) {
    const digest = crypto.createHash("sha256").update(body).digest("hex");
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ length: body.length, sha256: digest }));
    return;
  }
  if (p.endsWith("/healthy")) {
    res.writeHead(200, { "content-type": "text/plain" });
    res.end("ok");
    return;
  }
  res.writeHead(200, { "content-type": "text/plain" });
  res.end(`fake-upstream: ${req.method} ${u.pathname}${u.search}\n`);
}
