// A recording, streaming pass-through proxy: put it between an edge and the
// gateway to see exactly which requests (and headers) the edge sent.
import http from "node:http";

export async function startTap(targetOrigin) {
  const requests = [];
  const target = new URL(targetOrigin);
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method, url: req.url, path: req.url.split("?")[0], headers: req.headers, rawHeaders: req.rawHeaders });
    const up = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers, agent: false },
      (ur) => {
        res.writeHead(ur.statusCode, ur.rawHeaders);
        ur.pipe(res);
      },
    );
    up.on("error", (err) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`tap: ${err.message}\n`);
    });
    req.pipe(up);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = server.address().port;
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    requests,
    mark: () => requests.length,
    since: (mark) => requests.slice(mark),
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(() => resolve()); }),
  };
}
