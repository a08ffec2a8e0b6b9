// The static checks `npm test` counts beside the tests, in one place: scripts/test.mjs runs them, and so do
// `npm run typecheck`, `npm run lint` and `npm run imports` (`node scripts/checks.mjs <group>`).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Each area's tsconfig (what that code may see), after the build's tsconfig.json has emitted dist/. */
export const TYPECHECK_PROJECTS = [
  'lib/tsconfig.json', // browser code: DOM, no Node
  'lib/tsconfig.node.json', // the Node entry
  'bindings/react/tsconfig.json', // roommesh/react: DOM and React, no Node; roommesh through its exports
  'signaling/tsconfig.json', // Node, no DOM
  'cli/tsconfig.json', // the command-line participant: Node, on the public Node entry
  'test/tsconfig.json',
  'bench/tsconfig.json',
  'test/types/tsconfig.json', // the published declarations, dist/lib/*.d.ts, as an app sees them
];

/** The checks by group: a name and the command (run with node from the package root). */
export const CHECKS = {
  typecheck: TYPECHECK_PROJECTS.map((p) => ({
    name: `tsc -p ${p}`,
    args: ['node_modules/typescript/bin/tsc', '-p', p],
  })),
  lint: [
    { name: 'eslint', args: ['node_modules/eslint/bin/eslint.js', '.'] },
    {
      name: 'prettier --check',
      args: ['node_modules/prettier/bin/prettier.cjs', '--check', '--log-level', 'warn', '.'],
    },
  ],
  imports: [
    {
      name: 'dependency-cruiser',
      args: [
        'node_modules/dependency-cruiser/bin/dependency-cruise.mjs',
        '--config',
        '.dependency-cruiser.cjs',
        ...['lib', 'bindings', 'signaling', 'cli', 'bench', 'test', 'scripts'],
      ],
    },
  ],
};

/**
 * Runs one check with its output shown; resolves true when it passed.
 * @param {{ name: string, args: string[] }} check
 */
export function runCheck(check) {
  process.stdout.write(`\n> ${check.name}\n`);
  const r = spawnSync(process.execPath, check.args, { cwd: root, stdio: 'inherit' });
  return r.status === 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const groups = process.argv.slice(2);
  const unknown = groups.filter((g) => !(g in CHECKS));
  if (groups.length === 0 || unknown.length > 0) {
    process.stderr.write(`usage: node scripts/checks.mjs ${Object.keys(CHECKS).join('|')} ...\n`);
    process.exit(2);
  }
  let failed = 0;
  for (const g of groups) for (const c of CHECKS[g]) if (!runCheck(c)) failed++;
  process.exit(failed === 0 ? 0 : 1);
}
