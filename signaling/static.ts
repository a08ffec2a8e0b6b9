import { createReadStream, realpathSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

// The browser bundle lives beside this module's build output (dist/signaling/ → dist/browser/).
const BUNDLE_DIR = fileURLToPath(new URL('../browser/', import.meta.url));

/**
 * Paths served from the browser bundle whatever the static folder holds, so the demo and any page
 * served here can `import { Room } from '/roommesh.js'` without a bundler.
 */
const BUNDLE_PATHS: Readonly<Record<string, string>> = Object.freeze({
  '/roommesh.js': join(BUNDLE_DIR, 'roommesh.js'),
  '/roommesh.js.map': join(BUNDLE_DIR, 'roommesh.js.map'),
});

/** Sent with every static response: no other site may frame these pages (clickjacking). */
const FRAME_HEADERS = Object.freeze({ 'content-security-policy': "frame-ancestors 'none'", 'x-frame-options': 'DENY' });

/**
 * Serves a file for a GET or HEAD request: the browser bundle at {@link BUNDLE_PATHS}, otherwise a
 * file from `root`, never one outside it.
 */
export function serveStatic(root: string, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    res.writeHead(400).end();
    return;
  }
  const bundle = Object.hasOwn(BUNDLE_PATHS, pathname);
  const file = bundle ? BUNDLE_PATHS[pathname] : insideRoot(root, pathname);
  if (file === undefined) {
    res.writeHead(404, FRAME_HEADERS).end();
    return;
  }
  // The bundle is the library's public code (the same as on npm): a page of any origin may import it from
  // here. A module script from another origin needs CORS; the signaling connection checks origins itself.
  sendFile(file, req, res, bundle ? BUNDLE_CORS : {});
}

/** Sent with the bundle. */
const BUNDLE_CORS = Object.freeze({ 'access-control-allow-origin': '*' });

/**
 * The file `pathname` names under `root`, or undefined when it would lie outside: by its path, and by its
 * real path, so that a symbolic link inside the folder cannot reach a file outside it.
 */
function insideRoot(root: string, pathname: string): string | undefined {
  if (pathname.includes('\0')) return undefined;
  const path = pathname.endsWith('/') ? `${pathname}index.html` : pathname;
  const file = normalize(join(root, path));
  if (!file.startsWith(withSep(normalize(root)))) return undefined;
  try {
    return realpathSync(file).startsWith(withSep(realpathSync(root))) ? file : undefined;
  } catch {
    return undefined; // no such file, or a dangling link
  }
}

function withSep(dir: string): string {
  return dir.endsWith(sep) ? dir : dir + sep;
}

function sendFile(file: string, req: IncomingMessage, res: ServerResponse, extra: Record<string, string>): void {
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw new Error('not a file');
    size = st.size;
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain', ...FRAME_HEADERS }).end('not found\n');
    return;
  }
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': size,
    'x-content-type-options': 'nosniff',
    ...FRAME_HEADERS,
    ...extra,
    // The demo and the bundle change with each build; revalidate rather than run a stale copy.
    'cache-control': 'no-cache',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  // pipeline, not pipe: a client that goes away mid-file (a slow reader closing) must close the file too. With
  // pipe, the stream was paused and kept, one descriptor per aborted download, until the process ran out.
  pipeline(createReadStream(file), res, (err) => {
    if (err) res.destroy();
  });
}
