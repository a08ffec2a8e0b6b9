// `npm test`: builds, then runs every test with mocha inside a loopback-only network namespace,
// ending with the line "N passed, N failed". Pass mocha arguments after `--` to run a subset,
// e.g. `npm test -- dist/test/unit/*.test.js`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildBrowser } from './build-browser.mjs';
import { ensureChromium } from './ensure-chromium.mjs';
import { ensureRedis } from './ensure-redis.mjs';
import { runIsolated } from './netns.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);
ensureRedis(); // the Redis fleet tests need redis-server

const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' });
if (tsc.status !== 0) {
  process.stdout.write('\n0 passed, 1 failed\n');
  process.stderr.write('build failed: fix the TypeScript errors above\n');
  process.exit(1);
}
await buildBrowser().catch((err) => {
  process.stdout.write(`\n0 passed, 1 failed\nbrowser build failed: ${err.message}\n`);
  process.exit(1);
});

const extra = process.argv.slice(2);
const specs = extra.length > 0 ? extra : ['dist/test/unit/**/*.test.js', 'dist/test/integration/**/*.test.js', 'dist/test/browser/**/*.test.js'];
if (specs.some((s) => s.includes('browser'))) ensureChromium();
if (!existsSync('dist/test')) {
  process.stderr.write('no compiled tests under dist/test\n');
  process.exit(1);
}
const code = await runIsolated([
  process.execPath,
  '--expose-gc', // memory tests compare heaps after a collection
  'node_modules/mocha/bin/mocha.js',
  '--reporter', './scripts/mocha-summary-reporter.cjs',
  '--timeout', '60000',
  ...specs,
]);
process.exit(code);
