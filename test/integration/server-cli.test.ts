/**
 * The `roommesh-signal` command line as a real child process: --help, bad flags, and a server that
 * starts, answers /healthz and exits cleanly on SIGTERM.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { cp, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, httpExact, until } from '../support/processes.js';
import { closeRawClients, connect, join, next } from '../support/raw-client.js';

describe('roommesh-signal command line', function () {
  this.timeout(15_000);
  const cli = fileURLToPath(new URL('../../signaling/cli.js', import.meta.url));
  const children: ChildProcess[] = [];

  /** Runs the CLI; resolves with its exit code, signal and output once it has exited. */
  function run(
    args: string[],
    onStart?: (child: ChildProcess) => void,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [cli, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.startsWith('ROOMMESH_') || k === 'ROOMMESH_IN_NETNS'),
      ),
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
      (resolve, reject) => {
        child.on('error', reject);
        child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
      },
    );
    onStart?.(child);
    return done;
  }

  after(() => {
    // Only if a test failed half-way: stop the children this suite started.
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });

  it('--help prints the options and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).to.equal(0);
    for (const opt of ['--host', '--port', '--max-payload-bytes', '--log-level', '--no-static', '--help'])
      expect(r.stdout).to.include(opt);
    expect(r.stdout).to.match(/--port <n>.*\n.*range 0–65535/);
    expect(r.stdout).to.match(/--join-timeout-ms <ms>.*\n.*range 100–600000/);
    expect(r.stderr).to.equal('');
  });

  it('--port abc exits 2 with a message on stderr', async () => {
    const r = await run(['--port', 'abc']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.match(/port/);
    expect(r.stderr).to.include('abc');
    expect(r.stdout).to.equal('');
  });

  it('an unknown option or bad log level exits 2 with a message on stderr', async () => {
    const unknown = await run(['--bogus']);
    expect(unknown.code).to.equal(2);
    expect(unknown.stderr).to.include('bogus');
    const level = await run(['--log-level', 'loud']);
    expect(level.code).to.equal(2);
    expect(level.stderr).to.match(/log-level/);
    const range = await run(['--port', '70000']);
    expect(range.code).to.equal(2);
  });

  it('a port in use exits 1 saying why, not as a bad flag; token --ttl-ms 0 is a bad flag (2)', async () => {
    const taken = createNetServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    const port = (taken.address() as AddressInfo).port;
    try {
      const r = await run(['--host', '127.0.0.1', '--port', String(port)]);
      expect(r.code, r.stderr).to.equal(1);
      expect(r.stderr).to.match(/^roommesh-signal: cannot start: .*EADDRINUSE/);
      expect(r.stderr).to.not.include('--help');
    } finally {
      await new Promise((r) => taken.close(r));
    }
    const t = await run(['token', '--room', 'r', '--name', 'n', '--secret', 'x'.repeat(40), '--ttl-ms', '0']);
    expect(t.code).to.equal(2);
    expect(t.stderr).to.match(/--ttl-ms must be a whole number above 0/);
  });

  it('a Redis URL node-redis cannot use is a bad flag (2), and its password is not printed', async () => {
    for (const [url, problem] of [
      ['redis//:S3cretPw@10.0.0.5:6379', /not one/],
      ['redis://:S3cretPw@127.0.0.1:99999', /not a URL/],
      ['redis://:S3cretPw@127.0.0.1/abc', /database number/],
    ] as const) {
      const r = await run(['--adapter', 'redis', '--redis-url', url]);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.match(/--redis-url/);
      expect(r.stderr).to.match(problem);
      expect(r.stderr).to.not.include('S3cretPw');
      expect(r.stderr).to.include('***@');
    }
  });

  it('serves the demo from an install path with a space in it', async () => {
    const root = await mkdtemp(joinPath(tmpdir(), 'roommesh cli '));
    const app = joinPath(root, 'my app');
    try {
      const dist = fileURLToPath(new URL('../../', import.meta.url));
      const pkg = joinPath(dist, '..');
      await mkdir(joinPath(app, 'dist'), { recursive: true });
      for (const dir of ['lib', 'signaling'])
        await cp(joinPath(dist, dir), joinPath(app, 'dist', dir), { recursive: true });
      await cp(joinPath(pkg, 'demo'), joinPath(app, 'demo'), { recursive: true });
      await cp(joinPath(pkg, 'package.json'), joinPath(app, 'package.json'));
      await symlink(joinPath(pkg, 'node_modules'), joinPath(app, 'node_modules'));
      const port = await freePort();
      const child = spawn(
        process.execPath,
        [joinPath(app, 'dist', 'signaling', 'cli.js'), '--host', '127.0.0.1', '--port', String(port)],
        { stdio: 'ignore' },
      );
      children.push(child);
      try {
        await until(
          () =>
            httpExact(port, '/healthz').then(
              (r) => r.status === 200,
              () => false,
            ),
          10_000,
          'the server to start',
        );
        const page = await httpExact(port, '/');
        expect(page.status).to.equal(200);
        expect(page.body).to.match(/<html/i);
      } finally {
        child.kill('SIGINT');
        await new Promise((r) => child.once('close', r));
      }
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('starts, answers /healthz, and exits 0 on SIGTERM', async () => {
    // Pick a free port ourselves, since with --port 0 we could not tell which one it took (logs are silent).
    const port = await new Promise<number>((resolve, reject) => {
      const probe = createNetServer();
      probe.once('error', reject);
      probe.listen(0, '127.0.0.1', () => {
        const p = (probe.address() as AddressInfo).port;
        probe.close(() => resolve(p));
      });
    });
    let child!: ChildProcess;
    let exited = false;
    const done = run(
      ['--port', String(port), '--host', '127.0.0.1', '--log-level', 'silent', '--no-static', '--drain-delay-ms', '0'],
      (c) => (child = c),
    );
    void done.then(() => (exited = true));

    // Poll /healthz until it answers (connection refused until the server listens).
    const until = Date.now() + 10_000;
    let status = 0;
    while (status !== 200) {
      if (exited) throw new Error(`CLI exited early: ${JSON.stringify(await done)}`);
      if (Date.now() > until) throw new Error('CLI did not answer /healthz within 10 s');
      status = await httpExact(port, '/healthz').then(
        (r) => r.status,
        () => 0,
      );
      if (status !== 200) await new Promise((r) => setTimeout(r, 50));
    }

    // A client connected at shutdown must not keep the process alive.
    const s = await connect(`http://127.0.0.1:${port}`);
    await join(s, 'r', 'n');
    const dropped = next(s, 'disconnect', 5000);

    child.kill('SIGTERM');
    const r = await done;
    expect(r.signal).to.equal(null);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.equal(''); // silent
    await dropped;
    closeRawClients();
  });
});
