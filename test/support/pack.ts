/** The package as an app gets it: `npm pack` of the built tree, and a fixture app that holds it. */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root. */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** What `npm pack --json` says of the tarball. */
export interface PackResult {
  /** The tarball's file name, in the folder it was packed into. */
  filename: string;
  /** The files it holds. */
  files: Array<{ path: string }>;
}

/** Packs the package into `dir`, after the build (npm test builds first): --ignore-scripts, so it does not build again. */
export function npmPack(dir: string): PackResult {
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return (JSON.parse(out) as PackResult[])[0]!;
}

/**
 * Copies the fixture app `fixture` to `work/app` and unpacks the packed package as its
 * node_modules/roommesh; the browser bundle is self-contained, so its own dependencies are not installed.
 */
export function appWithPackedPackage(fixture: string, work: string): { packed: PackResult; appDir: string } {
  const packed = npmPack(work);
  const appDir = join(work, 'app');
  cpSync(fixture, appDir, { recursive: true });
  const installed = join(appDir, 'node_modules', 'roommesh');
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', join(work, packed.filename), '-C', installed, '--strip-components=1']);
  return { packed, appDir };
}
