/**
 * What a browser app gets from `npm install roommesh`: the packed package installed into a fresh folder
 * (--omit=dev --ignore-scripts, from npm's cache: the tests run without a network). None of the server's
 * packages nor node-datachannel is installed, node_modules stays small, and the parts that need a missing
 * package say which `npm install` brings it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { npmPack } from '../support/pack.js';

/** Packages only the server or Node's WebRTC need: optional peers, never installed for a browser app. */
const NOT_INSTALLED = [
  'socket.io',
  '@socket.io/redis-streams-adapter',
  'redis',
  'pino',
  'pino-pretty',
  'prom-client',
  'jose',
  'node-datachannel',
];
/**
 * node_modules of a browser app, at most. Measured at 9.7 MB (27 packages) when this was written, against
 * 46.6 MB (92 packages) while the server's packages were dependencies: room for growth, not for those.
 */
const MAX_NODE_MODULES_KB = 16 * 1024;

describe('npm install roommesh, as a browser app', function () {
  this.timeout(60_000);
  let work: string;
  let app: string;
  let installed: { status: number | null; stderr: string };

  before(function () {
    work = mkdtempSync(join(tmpdir(), 'roommesh-install-'));
    const tarball = join(work, npmPack(work).filename);
    app = join(work, 'app');
    execFileSync('mkdir', [app]);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    const r = spawnSync(
      'npm',
      ['install', '--offline', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', tarball],
      { cwd: app, encoding: 'utf8' },
    );
    installed = { status: r.status, stderr: r.stderr };
    // Without a network npm installs from its cache; a machine whose cache lacks a package cannot run this.
    if (r.status !== 0 && /ENOTCACHED/.test(r.stderr)) {
      process.stderr.write(`install-size: npm's cache lacks a package, skipped:\n${r.stderr}\n`);
      this.skip();
    }
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('installs', () => {
    expect(installed.status, installed.stderr).to.equal(0);
    expect(existsSync(join(app, 'node_modules/roommesh/package.json'))).to.equal(true);
  });

  it('installs none of the server packages nor node-datachannel', () => {
    const present = NOT_INSTALLED.filter((p) => existsSync(join(app, 'node_modules', p)));
    expect(present).to.deep.equal([]);
  });

  it(`keeps node_modules under ${MAX_NODE_MODULES_KB} KB`, () => {
    const kb = Number(execFileSync('du', ['-sk', join(app, 'node_modules')], { encoding: 'utf8' }).split('\t')[0]);
    expect(kb).to.be.above(0).and.at.most(MAX_NODE_MODULES_KB);
  });

  it('imports in Node without node-datachannel, and the WebRTC default names `npm install node-datachannel`', () => {
    const r = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import('roommesh');
         try { m.nodeDataChannelWebRTC(); console.log('loaded'); }
         catch (e) { console.log(JSON.stringify({ name: e.name, reason: e.reason, message: e.message })); }`,
      ],
      { cwd: app, encoding: 'utf8' },
    );
    expect(r.status, r.stderr).to.equal(0);
    const err = JSON.parse(r.stdout) as { name: string; reason: string; message: string };
    expect(err).to.include({ name: 'MissingDependencyError', reason: 'MissingDependency' });
    expect(err.message).to.include('npm install node-datachannel');
  });

  it('roommesh/signaling and roommesh-signal name the npm install command for the server packages', () => {
    const imported = spawnSync(process.execPath, ['--input-type=module', '-e', `await import('roommesh/signaling')`], {
      cwd: app,
      encoding: 'utf8',
    });
    expect(imported.status).to.not.equal(0);
    expect(imported.stderr).to.include(
      'Run: npm install socket.io @socket.io/redis-streams-adapter redis prom-client jose',
    );
    const cli = spawnSync(process.execPath, [join(app, 'node_modules/roommesh/dist/signaling/cli.js')], {
      cwd: app,
      encoding: 'utf8',
    });
    expect(cli.status).to.equal(1);
    expect(cli.stderr).to.include('npm install socket.io @socket.io/redis-streams-adapter redis prom-client jose pino');
  });
});
