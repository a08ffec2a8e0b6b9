/**
 * The browser build: what went into dist/browser/roommesh.js (no Node-only module), what the package's
 * exports map points at, and that a plain <script type="module"> page loads it from the signaling server
 * without any global being added.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createSignalingServer, type SignalingServer } from '../../signaling/server.js';
import { Chromium } from '../support/browser.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BUNDLE = join(ROOT, 'dist/browser/roommesh.js');
/** Written by scripts/build-browser.mjs: esbuild's record of every module the bundle was made from. */
const META = join(ROOT, 'dist/browser-meta.json');

/** Modules that must never reach a browser: Node's WebRTC, the socket.io server side, logging, Node built-ins. */
const NODE_ONLY = [
  /^node:/,
  /(^|\/)node_modules\/(node-datachannel|@roamhq\/wrtc|socket\.io|engine\.io|ws|pino|ioredis|redis)\//,
  /^lib\/node\.ts$/,
  /^lib\/internal\/node-datachannel\.ts$/,
  /^signaling\//,
];

interface Metafile {
  inputs: Record<string, unknown>;
  outputs: Record<string, { imports: Array<{ path: string; external?: boolean }> }>;
}

function get(url: string, method = 'GET'): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('browser bundle', function () {
  this.timeout(30_000);

  it('is made without any Node-only module, and with the shims simple-peer needs', () => {
    const meta = JSON.parse(readFileSync(META, 'utf8')) as Metafile;
    const inputs = Object.keys(meta.inputs);
    expect(inputs).to.include('lib/index.ts');
    expect(
      inputs.filter((i) => NODE_ONLY.some((re) => re.test(i))),
      'Node-only inputs',
    ).to.deep.equal([]);
    for (const needed of [
      'simple-peer/',
      'socket.io-client/',
      'cbor-x/',
      'node_modules/events/',
      'node_modules/buffer/',
      'node_modules/process/',
    ]) {
      expect(
        inputs.some((i) => i.includes(needed)),
        needed,
      ).to.equal(true);
    }
    for (const [file, out] of Object.entries(meta.outputs))
      expect(out.imports, `imports left in ${file}`).to.deep.equal([]);
  });

  it('is one ESM file with no import, require or Node module name left in it', () => {
    const js = readFileSync(BUNDLE, 'utf8');
    expect(js).to.not.match(/^\s*import[\s{*'"]/m);
    expect(js).to.not.match(/\bimport\s*\(/);
    expect(js).to.not.match(/\brequire\(\s*["'][^"']+["']\s*\)/);
    // As a module specifier, a Node-only name is quoted (comments may mention it).
    for (const name of ['"node-datachannel', "'node-datachannel", '"node:', "'node:", '"socket.io"', "'socket.io'"])
      expect(js, name).to.not.include(name);
    expect(js).to.match(/^export \{[^}]*\bRoom\b[^}]*\};/m);
  });

  it('is what the package exports to browsers; Node gets the Node entry; types and sideEffects are declared', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    const main = pkg.exports['.'];
    expect(Object.keys(main)[0], 'browser is matched first').to.equal('browser');
    expect(main.browser).to.deep.equal({ types: './dist/lib/index.d.ts', default: './dist/browser/roommesh.js' });
    expect(main.node.default).to.equal('./dist/lib/node.js');
    expect(pkg.exports['./browser'].default).to.equal('./dist/browser/roommesh.js');
    expect(pkg.sideEffects).to.equal(false);
    expect(pkg.files).to.include('dist/browser');
    for (const target of [main.browser.types, main.browser.default, main.node.default, main.node.types, main.default]) {
      expect(existsSync(join(ROOT, target)), target).to.equal(true);
    }
  });

  describe('served by the signaling server', () => {
    let dir: string;
    let server: SignalingServer | undefined;
    let plain: SignalingServer | undefined;
    let browser: Chromium | undefined;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'roommesh-plain-'));
      writeFileSync(
        join(dir, 'index.html'),
        `<!doctype html><title>plain</title><link rel="icon" href="data:,">
<script type="module">
  const before = Object.getOwnPropertyNames(globalThis);
  const lib = await import('/roommesh.js');
  window.result = {
    exports: Object.keys(lib).sort(),
    added: Object.getOwnPropertyNames(globalThis).filter((k) => !before.includes(k)),
    nodeGlobals: ['Buffer', 'process', 'global', 'require', 'module'].filter((k) => k in globalThis),
    connect: typeof lib.Room.connect,
  };
</script>`,
      );
      server = await createSignalingServer({ port: 0, host: '127.0.0.1', staticDir: dir });
      plain = await createSignalingServer({ port: 0, host: '127.0.0.1', staticDir: false });
    });
    after(async () => {
      await browser?.close();
      await server?.close();
      await plain?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('at /roommesh.js (and its source map), as JavaScript, whatever folder is served; not with static serving off', async () => {
      const js = await get(`${server!.url}/roommesh.js`);
      expect(js.status).to.equal(200);
      expect(js.type).to.match(/^text\/javascript/);
      expect(js.body).to.equal(readFileSync(BUNDLE, 'utf8'));
      expect((await get(`${server!.url}/roommesh.js`, 'HEAD')).status).to.equal(200);
      expect((await get(`${server!.url}/roommesh.js.map`)).status).to.equal(200);
      expect((await get(`${server!.url}/roommesh.js%00`)).status).to.equal(404);
      expect((await get(`${plain!.url}/roommesh.js`)).status).to.equal(404);
    });

    it('loads in a plain <script type="module"> page without a bundler, adding no global', async () => {
      browser = await Chromium.launch();
      const page = await browser.newPage();
      await page.goto(`${server!.url}/`);
      const result = (await page
        .waitForFunction(() => (window as unknown as { result?: unknown }).result)
        .then((h) => h.jsonValue())) as {
        exports: string[];
        added: string[];
        nodeGlobals: string[];
        connect: string;
      };
      expect(result.exports).to.include.members([
        'Room',
        'MessagingClient',
        'RemoteParticipant',
        'RoomMeshError',
        'MessagingError',
        'ConnectionError',
        'DEFAULT_TIMEOUTS',
      ]);
      expect(result.connect).to.equal('function');
      expect(result.nodeGlobals, 'Node globals defined by loading the bundle').to.deep.equal([]);
      expect(result.added, 'globals added by loading the bundle').to.deep.equal([]);
      expect(browser.problems).to.deep.equal([]);
    });

    it('can be imported by a page of another origin (the server sends it with CORS)', async () => {
      // Another port is another origin: the page comes from one server, the bundle from the other.
      const other = await createSignalingServer({ port: 0, host: '127.0.0.1', staticDir: dir });
      try {
        browser ??= await Chromium.launch();
        const page = await browser.newPage();
        await page.goto(`${server!.url}/`);
        const connect = await page.evaluate(
          async (url) => typeof ((await import(url)) as { Room: { connect: unknown } }).Room.connect,
          `${other.url}/roommesh.js`,
        );
        expect(connect).to.equal('function');
        expect(browser.problems).to.deep.equal([]);
      } finally {
        await other.close();
      }
    });
  });
});
