/** A fixture app built by Vite from the packed package, as the Vite-app and React-app suites meet it. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { expect } from 'chai';
import { build, createLogger, type InlineConfig } from 'vite';
import { type PackResult, ROOT, appWithPackedPackage } from './pack.js';

/** How to build a fixture app. */
export interface PackedAppOptions {
  /** Packages the app needs beside roommesh, linked from this package's own node_modules (its devDependencies). */
  link?: readonly string[];
  /** Vite settings beside the app's root, no config file and the logger that keeps warnings. */
  vite?: InlineConfig;
}

/** A built app: the tarball it holds, its folder (built into `dist/`), and what Vite warned of. */
export interface PackedApp {
  packed: PackResult;
  appDir: string;
  /** Vite's warnings, but its PLUGIN_TIMINGS notices: those only say the build was slow (a busy machine). */
  viteWarnings: string[];
}

/**
 * Mocha hooks that pack the package, unpack it into a copy of `fixture` and build that with Vite before
 * the suite, and delete it all after. Returns a getter for the app, there once the suite's `before` ran.
 */
export function packedAppSuite(fixture: string, options: PackedAppOptions = {}): () => PackedApp {
  let work: string | undefined;
  let app: PackedApp | undefined;
  before(async () => {
    work = mkdtempSync(join(tmpdir(), `roommesh-${basename(fixture)}-`));
    const { packed, appDir } = appWithPackedPackage(fixture, work);
    for (const name of options.link ?? []) {
      mkdirSync(dirname(join(appDir, 'node_modules', name)), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules', name), join(appDir, 'node_modules', name), 'dir');
    }
    const viteWarnings: string[] = [];
    const keep = (msg: string): void => {
      if (!msg.includes('[PLUGIN_TIMINGS]')) viteWarnings.push(msg);
    };
    const logger = createLogger('warn');
    logger.warn = keep;
    logger.warnOnce = keep;
    await build({ root: appDir, configFile: false, logLevel: 'warn', customLogger: logger, ...options.vite });
    app = { packed, appDir, viteWarnings };
  });
  after(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });
  return () => {
    if (app === undefined) throw new Error('the app is built in the before hook of its suite');
    return app;
  };
}

/** Type-checks the app against the packed declarations alone (its own tsconfig.json), expecting no output. */
export function expectAppTypechecks(appDir: string): void {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(appDir, 'tsconfig.json')], { encoding: 'utf8' });
  expect(r.stdout + r.stderr, 'tsc output').to.equal('');
  expect(r.status).to.equal(0);
}

/** The JavaScript Vite built for the app (every `dist/assets/*.js`, joined); there must be some. */
export function builtJs(appDir: string): string {
  const assets = readdirSync(join(appDir, 'dist', 'assets')).filter((f) => f.endsWith('.js'));
  expect(assets, 'built JavaScript assets').to.have.length.greaterThan(0);
  return assets.map((f) => readFileSync(join(appDir, 'dist', 'assets', f), 'utf8')).join('\n');
}
