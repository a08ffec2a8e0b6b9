// `npm run bench`: builds, then runs the benchmarks (bench/main.ts) inside a loopback-only network
// namespace, so no WebRTC packet leaves the machine. Options after `--`, e.g.
// `npm run bench -- --scenario small,latency --quick`; `npm run bench -- --help` lists them.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runIsolated } from './netns.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);

const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
if (tsc.status !== 0) {
  process.stderr.write('build failed: fix the TypeScript errors above\n');
  process.exit(1);
}
// `npm run bench -- soak [--minutes 10] [--participants 10]` runs the soak run (bench/soak.ts) instead.
const [first, ...rest] = process.argv.slice(2);
const argv = first === 'soak' ? ['--expose-gc', 'dist/bench/soak.js', ...rest] : ['dist/bench/main.js', ...process.argv.slice(2)];
process.exit(await runIsolated([process.execPath, ...argv]));
