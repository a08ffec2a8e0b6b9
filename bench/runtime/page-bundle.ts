import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type * as esbuild from 'esbuild';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The folder the bench's signaling server serves to Chromium participants: index.html and participant.js. */
export const PAGE_DIR = `${ROOT}dist/bench-page/`;

const PAGE_HTML = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>roommesh bench participant</title>
<link rel="icon" href="data:,">
<script type="module" src="/participant.js"></script>
</html>
`;

/**
 * Sends the library's entry to /roommesh.js, the shipped browser bundle the signaling server serves, so
 * that a page measures roommesh as browsers get it, not a second build of lib/.
 */
const libraryFromServer: esbuild.Plugin = {
  name: 'roommesh-from-server',
  setup(build) {
    build.onResolve({ filter: /(^|\/)lib\/index\.js$/ }, () => ({ path: '/roommesh.js', external: true }));
  },
};

/** scripts/build-browser.mjs's builder (plain JavaScript, outside the TypeScript build): its signature here. */
type BundleForBrowser = (
  overrides: esbuild.BuildOptions & { entryPoints: string[]; outfile: string },
) => Promise<esbuild.BuildResult<{ metafile: true }>>;

/**
 * Bundles the compiled page participant (dist/bench/participant/page-main.js) with simple-peer and
 * socket.io-client for the browser, by the function that builds the shipped bundle (same target, shims
 * and `global`), into {@link PAGE_DIR}. Fails when any of the library itself or a Node-only module got
 * in. Takes well under a second.
 */
export async function buildBenchPage(): Promise<void> {
  const { bundleForBrowser } = (await import(pathToFileURL(`${ROOT}scripts/build-browser.mjs`).href)) as {
    bundleForBrowser: BundleForBrowser;
  };
  const result = await bundleForBrowser({
    entryPoints: ['dist/bench/participant/page-main.js'],
    outfile: `${PAGE_DIR}participant.js`,
    plugins: [libraryFromServer],
  });
  const stray = Object.keys(result.metafile.inputs).filter((p) =>
    /node-datachannel|@roamhq|dist\/lib\/(?!protocol\/)/.test(p),
  );
  if (stray.length > 0) throw new Error(`the bench page bundle must not contain ${stray.join(', ')}`);
  mkdirSync(PAGE_DIR, { recursive: true });
  writeFileSync(`${PAGE_DIR}index.html`, PAGE_HTML);
}
