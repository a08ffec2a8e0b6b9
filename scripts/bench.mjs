// `npm run bench`: builds (tsc and the browser bundle the Chromium participants load), then runs the
// benchmarks (bench/main.ts) inside a loopback-only network namespace, so no WebRTC packet leaves the
// machine. Options after `--`, e.g. `npm run bench -- --scenario small,latency --quick`;
// `npm run bench -- --help` lists them. Three other runs are dispatched below.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { buildBrowser } from './build-browser.mjs';
import { ensureChromium } from './ensure-chromium.mjs';
import { runIsolated } from './netns.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);

const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], {
  stdio: 'inherit',
});
if (tsc.status !== 0) {
  process.stderr.write('build failed: fix the TypeScript errors above\n');
  process.exit(1);
}
await buildBrowser();

// `npm run bench -- frame-size [MiB] [rounds] [--hosts in-process,node,chromium]` runs bench/frame-size.ts,
// `npm run bench -- soak [--minutes 10] [--participants 10]` the soak run (bench/soak.ts), and
// `npm run bench -- signaling-load [participants...]` the load on one signaling process (bench/signaling-load.ts),
// `npm run bench -- chaos [--duration 600]` the chaos soak: fleet processes and participants killed (bench/chaos-soak.ts).
const [first, ...tail] = process.argv.slice(2);
const [argv, rest] =
  first === 'soak'
    ? [['--expose-gc', 'dist/bench/soak.js'], tail]
    : first === 'chaos'
      ? [['dist/bench/chaos-soak.js'], tail]
      : first === 'frame-size'
        ? [['dist/bench/frame-size.js'], tail]
        : first === 'signaling-load'
          ? [['dist/bench/signaling-load.js'], tail]
          : [['dist/bench/main.js'], process.argv.slice(2)];
// Chromium is needed unless the run names only Node transports (or is the soak or signaling-load run, Node
// only); a missing one is installed (as root) or explained.
const text = rest.join(' ');
const nodeOnly =
  first === 'soak' ||
  first === 'chaos' ||
  first === 'signaling-load' ||
  (/--(transport|runtime|hosts)\b/.test(text) && !text.includes('chromium'));
if (!rest.includes('--help') && !nodeOnly) ensureChromium();
process.exit(await runIsolated([process.execPath, ...argv, ...rest]));
