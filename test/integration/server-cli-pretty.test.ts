/**
 * `npm start` for a person: roommesh-signal at a terminal (a pseudo-terminal from util-linux `script`)
 * prints readable lines through pino-pretty, with the URL to open; without a terminal, JSON lines.
 */
import { expect } from 'chai';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, until } from '../support/processes.js';

const CLI = fileURLToPath(new URL('../../signaling/cli.js', import.meta.url));
const HAS_SCRIPT = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

describe('roommesh-signal logs for a person and for machines', function () {
  this.timeout(20_000);
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  /** Starts the CLI (through `script` for a terminal) and resolves with its output once it logged `until`. */
  async function output(tty: boolean, waitFor: RegExp): Promise<string> {
    const port = await freePort();
    const args = ['--host', '127.0.0.1', '--port', String(port), '--drain-delay-ms', '0'];
    const cmd = [process.execPath, CLI, ...args].join(' ');
    const env = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('ROOMMESH_') && k !== 'NO_COLOR'),
    );
    // script -qfc runs the command under a pseudo-terminal; its output is the terminal's.
    const child = tty
      ? spawn('script', ['-qfec', `exec ${cmd}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env })
      : spawn(process.execPath, [CLI, ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env,
        });
    children.push(child);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    await until(() => waitFor.test(out) || child.exitCode !== null, 15_000, `${String(waitFor)} in ${out}`);
    const exited = new Promise((r) => child.once('close', r));
    child.kill('SIGTERM');
    await exited;
    return out;
  }

  it('at a terminal: readable lines, and which URL to open in two tabs', async function () {
    if (!HAS_SCRIPT) this.skip(); // util-linux script makes the pseudo-terminal
    const out = await output(true, /in two tabs/);
    // eslint-disable-next-line no-control-regex
    const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
    expect(plain).to.match(/INFO: open http:\/\/127\.0\.0\.1:\d+\/ in two tabs/);
    expect(plain).to.match(/INFO: signaling server listening/);
    expect(plain).to.not.match(/^\{"level"/m);
  });

  it('without a terminal: JSON lines, and no line for a person', async () => {
    const out = await output(false, /signaling server listening/);
    const lines = out.split('\n').filter((l) => l.length > 0);
    expect(lines.length).to.be.above(0);
    for (const l of lines) expect(() => JSON.parse(l) as unknown, l).to.not.throw();
    expect(out).to.not.include('in two tabs');
  });
});
