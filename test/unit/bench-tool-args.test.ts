import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Runs one of the bench's side tools (compiled, in dist/bench) with `args`; it must exit before doing any work. */
function run(tool: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const file = fileURLToPath(new URL(`../../bench/${tool}.js`, import.meta.url));
  const r = spawnSync(process.execPath, [file, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('bench side tools: --help and bad arguments', function () {
  this.timeout(60_000); // each run loads its tool's modules
  it('prints the usage for --help and exits 0', () => {
    for (const tool of ['soak', 'chaos-soak', 'frame-size', 'signaling-load', 'profile-summary']) {
      const r = run(tool, ['--help']);
      expect(r.status, `${tool}: ${r.stderr}`).to.equal(0);
      expect(r.stdout, tool).to.match(/^usage: /);
    }
  });

  it('names what is wrong, prints the usage and exits 2, without a stack trace', () => {
    const cases: [string, string[], RegExp][] = [
      ['soak', ['--minutes', 'abc'], /--minutes must be a number of minutes over 0, got 'abc'/],
      ['soak', ['--participants', '1'], /--participants must be a whole number of at least 2/],
      ['chaos-soak', ['--fleet', '1'], /--fleet must be 0 \(one server\) or a whole number of at least 2/],
      ['chaos-soak', ['--bogus'], /Unknown option '--bogus'/],
      ['frame-size', ['0'], /frame-size cannot take '0'/],
      ['signaling-load', ['10', 'x'], /a participant count must be a whole number of at least 1, got 'x'/],
      ['profile-summary', ['--top', '0', 'a.cpuprofile'], /--top must be a whole number of at least 1/],
      ['profile-summary', [], /name at least one \.cpuprofile file/],
    ];
    for (const [tool, args, problem] of cases) {
      const r = run(tool, args);
      expect(r.status, `${tool} ${args.join(' ')}`).to.equal(2);
      expect(r.stderr, `${tool} ${args.join(' ')}`).to.match(problem);
      expect(r.stderr).to.match(/\nusage: /);
      expect(r.stderr).not.to.match(/\n\s+at /);
    }
  });
});
