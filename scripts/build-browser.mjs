// The browser build: bundles lib/index.ts with everything it needs into one ESM file,
// dist/browser/roommesh.js (+ .map), which the package's `browser` export condition points at and the
// signaling server serves at /roommesh.js for the demo and for plain <script type="module"> pages.
// simple-peer needs `events`, `process`, `Buffer` and `global` in a browser; they are provided here so
// that an app built with Vite or esbuild needs no configuration. Run by `npm run build` after tsc.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Where the bundle is written, relative to the package root. */
export const BROWSER_BUNDLE = 'dist/browser/roommesh.js';
/** esbuild's metafile of the last build (what went in), for the test that no Node-only module did. */
export const BROWSER_META = 'dist/browser-meta.json';

/**
 * Bundles for a page with no bundler: ESM, es2022, self-contained, with the Node shims simple-peer needs.
 * The shipped bundle and the bench's page participant (bench/runtime/page-bundle.ts) are both built by
 * this, so a page measures what browsers get. `overrides` names the entry, the output and anything else.
 * @param {import('esbuild').BuildOptions & { entryPoints: string[], outfile: string }} overrides
 * @returns {Promise<import('esbuild').BuildResult<{ metafile: true }>>}
 */
export function bundleForBrowser(overrides) {
  return esbuild.build({
    absWorkingDir: root,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    // The library's own code uses ES2022 (private fields, static blocks); every current browser runs it.
    target: 'es2022',
    sourcemap: 'linked',
    inject: ['scripts/browser-shims.mjs'],
    define: { global: 'globalThis' },
    // Nothing may stay an import: the file must load in a page with no bundler and no import map.
    external: [],
    logLevel: 'warning',
    ...overrides,
    metafile: true,
  });
}

/** Builds the browser bundle; resolves with esbuild's metafile. */
export async function buildBrowser() {
  const result = await bundleForBrowser({
    entryPoints: ['lib/index.ts'],
    outfile: BROWSER_BUNDLE,
    // Readable output: an app's bundler minifies it, and stack traces in the demo stay useful as they are.
    minify: false,
    legalComments: 'eof',
    banner: {
      js: '// roommesh browser bundle: ESM, self-contained (simple-peer, socket.io-client, cbor-x and their shims included).',
    },
  });
  mkdirSync(`${root}dist`, { recursive: true });
  writeFileSync(`${root}${BROWSER_META}`, JSON.stringify(result.metafile));
  return result.metafile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const meta = await buildBrowser();
  const out = meta.outputs[BROWSER_BUNDLE];
  process.stdout.write(
    `${BROWSER_BUNDLE}: ${Math.round((out?.bytes ?? 0) / 1024)} KiB from ${Object.keys(meta.inputs).length} modules\n`,
  );
}
