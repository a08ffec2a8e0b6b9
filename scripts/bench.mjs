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
process.exit(await runIsolated([process.execPath, 'dist/bench/main.js', ...process.argv.slice(2)]));
