/**
 * Static files of a real server: a symbolic link inside the static folder never reaches a file outside it,
 * and every static response forbids framing by another site.
 */
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SignalingServer } from '../../signaling/server.js';
import { Harness } from '../support/harness.js';

const INDEX = '<!doctype html><title>roommesh static test</title>\n';

describe('static files', function () {
  this.timeout(10_000);
  const h = new Harness();
  let dir: string;
  let server: SignalingServer;

  before(async () => {
    // dir/www is served; dir/secret.txt and dir/private/ lie outside it, reachable only through links.
    dir = mkdtempSync(join(tmpdir(), 'roommesh-static-links-'));
    mkdirSync(join(dir, 'www'));
    mkdirSync(join(dir, 'private'));
    writeFileSync(join(dir, 'www', 'index.html'), INDEX);
    writeFileSync(join(dir, 'www', 'big.bin'), new Uint8Array(8 << 20));
    writeFileSync(join(dir, 'secret.txt'), 'SECRET\n');
    writeFileSync(join(dir, 'private', 'key.txt'), 'SECRET KEY\n');
    symlinkSync(join(dir, 'secret.txt'), join(dir, 'www', 'secret.txt'));
    symlinkSync('../secret.txt', join(dir, 'www', 'relative.txt'));
    symlinkSync(join(dir, 'private'), join(dir, 'www', 'private'));
    symlinkSync('/etc/passwd', join(dir, 'www', 'passwd.txt'));
    symlinkSync('index.html', join(dir, 'www', 'home.html')); // stays inside: served
    symlinkSync(join(dir, 'www'), join(dir, 'www-link')); // a static folder that is itself a link
    server = await h.server({ staticDir: join(dir, 'www') });
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (s: SignalingServer, path: string): Promise<{ status: number; body: string; headers: Headers }> => {
    const r = await fetch(`${s.url}${path}`);
    return { status: r.status, body: await r.text(), headers: r.headers };
  };

  it('a download its client abandons mid-file closes the file: no descriptor is left per aborted download', async () => {
    const openFds = (): number => readdirSync('/proc/self/fd').length;
    const before = openFds();
    // Clients that ask for 8 MiB, read none of it (the server's writes back up), and go away.
    const clients = Array.from({ length: 20 }, () => {
      const c = connect(server.port, '127.0.0.1');
      c.on('error', () => {});
      c.write('GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n');
      c.pause();
      return c;
    });
    await new Promise((r) => setTimeout(r, 500));
    for (const c of clients) c.destroy();
    const deadline = Date.now() + 3000;
    while (openFds() > before + 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(openFds(), 'descriptors open after 20 aborted downloads').to.be.at.most(before + 2);
  });

  it('a symbolic link to a file or folder outside the static folder is 404', async () => {
    for (const path of ['/secret.txt', '/relative.txt', '/private/key.txt', '/passwd.txt']) {
      const r = await get(server, path);
      expect(r.status, path).to.equal(404);
      expect(r.body, path).to.not.match(/SECRET|root:/);
    }
  });

  it('a link that stays inside is served, and so is a static folder that is itself a link', async () => {
    expect((await get(server, '/home.html')).body).to.equal(INDEX);
    const linked = await h.server({ staticDir: join(dir, 'www-link') });
    const r = await get(linked, '/');
    expect(r.status).to.equal(200);
    expect(r.body).to.equal(INDEX);
    expect((await get(linked, '/secret.txt')).status).to.equal(404);
  });

  it('every static response forbids framing: the page, the bundle and a 404', async () => {
    for (const path of ['/', '/index.html', '/roommesh.js', '/missing.html', '/secret.txt']) {
      const r = await get(server, path);
      expect(r.headers.get('content-security-policy'), path).to.equal("frame-ancestors 'none'");
      expect(r.headers.get('x-frame-options'), path).to.equal('DENY');
    }
  });

  it('the bundle may be imported by a page of any origin (CORS); the static folder may not be read across origins', async () => {
    for (const path of ['/roommesh.js', '/roommesh.js.map']) {
      const r = await get(server, path);
      expect(r.status, path).to.equal(200);
      expect(r.headers.get('access-control-allow-origin'), path).to.equal('*');
    }
    for (const path of ['/', '/index.html']) {
      expect((await get(server, path)).headers.get('access-control-allow-origin'), path).to.equal(null);
    }
  });
});
