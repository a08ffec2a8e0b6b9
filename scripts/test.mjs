// `npm test`: builds, runs the static checks (typecheck, lint, imports: scripts/checks.mjs), then every
// test with mocha inside a loopback-only network namespace, ending with the line "N passed, N failed",
// where each static check counts as one test. Pass mocha arguments after `--` to run a subset, e.g.
// `npm test -- dist/test/unit/*.test.js`: that builds and runs those specs only, without the checks.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildBrowser } from './build-browser.mjs';
import { CHECKS, runCheck } from './checks.mjs';
import { ensureChromium } from './ensure-chromium.mjs';
import { ensureRedis } from './ensure-redis.mjs';
import { runIsolated } from './netns.mjs';
import { warmNpmCache } from './warm-npm-cache.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
process.chdir(root);
ensureRedis(); // the Redis fleet tests need redis-server

// A fresh build: tsc does not delete what a removed source compiled to, and a stale test would still run.
rmSync('dist', { recursive: true, force: true });
const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], {
  stdio: 'inherit',
});
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
// Each check is one counted test; a failure shows its output above and its name here, and the tests
// still run so that the summary has the full count. The reporter adds these to its line.
let checksPassed = 0;
const checksFailed = [];
if (extra.length === 0) {
  for (const check of Object.values(CHECKS).flat()) {
    if (runCheck(check)) checksPassed++;
    else checksFailed.push(check.name);
  }
  if (checksFailed.length > 0) process.stdout.write(`\nstatic checks failed: ${checksFailed.join(', ')}\n`);
}
const specs =
  extra.length > 0
    ? extra
    : ['dist/test/unit/**/*.test.js', 'dist/test/integration/**/*.test.js', 'dist/test/browser/**/*.test.js'];
if (specs.some((s) => s.includes('browser'))) ensureChromium();
// The install test runs offline, in the namespace: what it installs must be in npm's cache first.
if (specs.some((s) => s.includes('integration'))) warmNpmCache(root);
if (!existsSync('dist/test')) {
  process.stderr.write('no compiled tests under dist/test\n');
  process.exit(1);
}
const code = await runIsolated(
  [
    process.execPath,
    '--expose-gc', // memory tests compare heaps after a collection
    'node_modules/mocha/bin/mocha.js',
    '--reporter',
    './scripts/mocha-summary-reporter.cjs',
    '--timeout',
    '60000',
    ...specs,
  ],
  { env: { ROOMMESH_CHECKS_PASSED: String(checksPassed), ROOMMESH_CHECKS_FAILED: String(checksFailed.length) } },
);
process.exit(code !== 0 ? code : checksFailed.length > 0 ? 1 : 0);
