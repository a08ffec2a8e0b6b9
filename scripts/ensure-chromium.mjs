// Makes sure Debian's Chromium is at /usr/bin/chromium for the browser tests: installs the `chromium`
// package with apt when it is missing and we are root on a machine with apt; otherwise says how to get
// it. test.mjs calls it before a run that includes test/browser; where it cannot help, the browser tests
// then fail one by one with the same advice while the other tests still run.
// Also runs alone: `node scripts/ensure-chromium.mjs` (exit code 1 when Chromium is still missing).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where the browser tests expect Chromium (playwright-core's own downloaded browsers are not used). */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** What to do when Chromium is missing. */
export const CHROMIUM_HOW_TO =
  `the browser tests need Chromium at ${CHROMIUM_PATH}. On Debian or Ubuntu, as root: ` +
  'apt-get update && apt-get install -y --no-install-recommends chromium';

/** Returns true when Chromium is present, installing it first when it can; otherwise prints why not and returns false. */
export function ensureChromium() {
  if (existsSync(CHROMIUM_PATH)) return true;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (!isRoot || !hasApt) {
    process.stderr.write(
      `Chromium is missing and cannot be installed from here (${hasApt ? 'not root' : 'no apt-get'}): ${CHROMIUM_HOW_TO}\n`,
    );
    return false;
  }
  process.stderr.write(
    `Chromium is missing at ${CHROMIUM_PATH}; installing Debian's chromium package (about a minute)…\n`,
  );
  // Package lists start empty on a fresh machine, so update first.
  const r = spawnSync('sh', ['-c', 'apt-get update && apt-get install -y --no-install-recommends chromium'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status === 0 && existsSync(CHROMIUM_PATH)) return true;
  const tail = String(r.stdout ?? '')
    .trim()
    .split('\n')
    .slice(-15)
    .join('\n');
  process.stderr.write(`${tail}\ninstalling chromium with apt-get failed (exit ${r.status}): ${CHROMIUM_HOW_TO}\n`);
  return false;
}

if (process.argv[1] === fileURLToPath(import.meta.url) && !ensureChromium()) process.exit(1);
