/** README's table of the server's flags against the flag table the command line is built from. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { FLAGS } from '../../signaling/cli-flag-table.js';

const README = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

describe("README's table of server flags", () => {
  // Rows of the table: `| --flag[, --flag] | VARIABLE[, VARIABLE] | default | what |`.
  const rows = README.split('\n').filter((line) => /^\| `--[a-z-]+`/.test(line));

  it('names every flag of roommesh-signal with its environment variable, in the same row', () => {
    const missing = FLAGS.filter((f) => !rows.some((row) => row.includes(`\`--${f.flag}\``) && row.includes(f.env)));
    expect(missing.map((f) => `--${f.flag} (${f.env})`)).to.deep.equal([]);
  });

  it('names no flag that roommesh-signal does not have', () => {
    const known = new Set(FLAGS.map((f) => f.flag));
    const named = rows.flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`--([a-z-]+)`/g)].map((m) => m[1]));
    expect(named.filter((flag) => !known.has(flag as string))).to.deep.equal([]);
  });
});
