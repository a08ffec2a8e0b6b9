/**
 * The signaling server over plain HTTP: the health check, and the static folder served at / without
 * ever reaching a file outside it.
 */
import { expect } from 'chai';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import type { SignalingServer } from '../../signaling/server.js';
import { Harness } from '../support/harness.js';
import { httpExact } from '../support/processes.js';

describe('signaling server over HTTP', function () {
  this.timeout(10_000);
  const h = new Harness();
  let plain: SignalingServer | undefined;
  let withStatic: SignalingServer | undefined;
  let dir: string;
  const INDEX = '<!doctype html><title>roommesh test</title>\n';

  before(async () => {
    // parent/www is served; parent/secret.txt and parent/www2/secret.txt sit next to it.
    dir = mkdtempSync(joinPath(tmpdir(), 'roommesh-static-'));
    mkdirSync(joinPath(dir, 'www', 'sub'), { recursive: true });
    mkdirSync(joinPath(dir, 'www2'));
    writeFileSync(joinPath(dir, 'www', 'index.html'), INDEX);
    writeFileSync(joinPath(dir, 'www', 'sub', 'app.js'), 'export {};\n');
    writeFileSync(joinPath(dir, 'secret.txt'), 'SECRET\n');
    writeFileSync(joinPath(dir, 'www2', 'secret.txt'), 'SECRET2\n');
    plain = await h.server();
    withStatic = await h.server({ staticDir: joinPath(dir, 'www') });
  });
  after(async () => {
    await h.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('GET /healthz returns 200 "ok"', async () => {
    for (const s of [plain!, withStatic!]) {
      const r = await httpExact(s.port, '/healthz');
      expect(r.status).to.equal(200);
      expect(r.body.trim()).to.equal('ok');
    }
  });

  it('with staticDir false, / is 404', async () => {
    expect((await httpExact(plain!.port, '/')).status).to.equal(404);
    expect((await httpExact(plain!.port, '/index.html')).status).to.equal(404);
  });

  it('with a staticDir, GET / serves its index.html', async () => {
    const r = await httpExact(withStatic!.port, '/');
    expect(r.status).to.equal(200);
    expect(r.body).to.equal(INDEX);
    expect(r.headers['content-type']).to.match(/^text\/html/);
    const js = await httpExact(withStatic!.port, '/sub/app.js');
    expect(js.status).to.equal(200);
    expect(js.headers['content-type']).to.match(/^text\/javascript/);
    expect((await httpExact(withStatic!.port, '/missing.html')).status).to.equal(404);
    expect((await httpExact(withStatic!.port, '/', 'POST')).status).to.equal(405);
  });

  it('does not serve files outside staticDir, however the path is written', async () => {
    const paths = [
      '/../../etc/passwd',
      '/../secret.txt',
      '/..%2fsecret.txt',
      '/%2e%2e/secret.txt',
      '/%2e%2e%2fsecret.txt',
      '/sub/..%2f..%2fsecret.txt',
      '/..%2fwww2%2fsecret.txt', // a sibling whose name starts with the root's
      '/..%5csecret.txt',
      '/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '//etc/passwd',
      '/index.html%00.txt',
      '/%E0%A4%A', // undecodable
    ];
    for (const p of paths) {
      const r = await httpExact(withStatic!.port, p);
      expect(r.status, p).to.be.oneOf([400, 404]);
      expect(r.body, p).to.not.match(/SECRET|root:/);
    }
  });
});
