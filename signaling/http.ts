/** The server's plain HTTP side: health, readiness, metrics, and the static demo files. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { serveStatic } from './static.js';

/** What the HTTP routes need from the server. */
export interface HttpRoutes {
  /** Why the server is not ready, or undefined when it is. */
  notReadyReason(): string | undefined;
  /** The metrics registry, or undefined when metrics are off. */
  registry: Registry | undefined;
  staticDir: string | false;
  onError(err: unknown): void;
}

/** The request handler: GET /healthz, /readyz, /metrics, else static files. */
export function httpHandler(routes: HttpRoutes): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://x').pathname;
    } catch {
      res.writeHead(400).end();
      return;
    }
    const probe = pathname === '/healthz' || pathname === '/readyz' || pathname === '/metrics';
    if (probe && req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end('ok\n');
      return;
    }
    if (pathname === '/readyz') {
      const why = routes.notReadyReason();
      res
        .writeHead(why === undefined ? 200 : 503, { 'content-type': 'text/plain', 'cache-control': 'no-store' })
        .end(why === undefined ? 'ready\n' : `not ready: ${why}\n`);
      return;
    }
    if (pathname === '/metrics' && routes.registry !== undefined) {
      const registry = routes.registry;
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' }).end(text),
        (err: unknown) => {
          routes.onError(err);
          res.writeHead(500).end();
        },
      );
      return;
    }
    if (routes.staticDir === false) {
      res.writeHead(404).end();
      return;
    }
    serveStatic(routes.staticDir, req, res);
  };
}
