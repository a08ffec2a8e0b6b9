// Warms npm's cache for the install test (test/integration/install-size.test.ts), which installs the packed
// package with `npm install --offline` inside the tests' loopback-only network namespace. A fresh machine's
// cache holds the lockfile's tarballs after `npm install`, but not the registry metadata that resolving the
// packed package's version ranges needs; this installs the packed package once into a throwaway folder,
// before the namespace, taking from the registry only what the cache lacks (`--prefer-offline`). Without a
// registry it says so and returns: the install test then skips with npm's reason.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Installs the packed package from `root` into a throwaway folder; true when npm could. */
export function warmNpmCache(root) {
  const work = mkdtempSync(join(tmpdir(), 'roommesh-warm-'));
  try {
    const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], {
      cwd: root,
      encoding: 'utf8',
    });
    if (pack.status !== 0) return report(`npm pack failed: ${pack.stderr}`);
    const tarball = join(work, JSON.parse(pack.stdout)[0].filename);
    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
    const flags = ['--prefer-offline', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'];
    // One try, not npm's default of three with backoff: a machine without a registry would wait minutes.
    const limits = ['--fetch-retries=0', '--fetch-timeout=30000'];
    const install = spawnSync('npm', ['install', ...flags, ...limits, tarball], { cwd: app, encoding: 'utf8' });
    if (install.status !== 0) return report(`npm install of the packed package failed: ${install.stderr}`);
    return true;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function report(what) {
  process.stderr.write(`warm-npm-cache: ${what.trim().split('\n').slice(-3).join('\n')}\n`);
  return false;
}
