/**
 * Real servers in their own processes for tests: redis-server, and roommesh-signal (the CLI) — so a test
 * can SIGKILL one, or SIGTERM it and watch it drain. Every process started here is stopped by stopAll().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../signaling/cli.js', import.meta.url));

/** A process started by a test, with what it printed so far. */
export interface Proc {
  child: ChildProcess;
  port: number;
  output(): string;
  /** Resolves once the process has ended, with its exit code or signal. */
  exited: Promise<number | NodeJS.Signals>;
}

const started: Proc[] = [];

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const p = (probe.address() as AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });
}

function launch(cmd: string, args: string[], port: number, env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !k.startsWith('ROOMMESH_') || k === 'ROOMMESH_IN_NETNS'),
      ),
      ...env,
    },
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code ?? -1)),
  );
  const proc: Proc = { child, port, output: () => out, exited };
  started.push(proc);
  return proc;
}

/** Polls until `check` resolves true; rejects after `timeoutMs` naming `what`. */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** GET on 127.0.0.1 without keep-alive; status 0 when nothing answers. */
export function httpGet(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }),
        );
        res.on('error', () => resolve({ status: 0, body: '', headers: {} }));
      },
    );
    req.on('error', () => resolve({ status: 0, body: '', headers: {} }));
    req.setTimeout(3000, () => req.destroy());
    req.end();
  });
}

/**
 * A raw HTTP request with the path sent exactly as given (no normalisation), no keep-alive; unlike
 * {@link httpGet} it rejects when the server does not answer.
 */
export function httpExact(
  port: number,
  path: string,
  method = 'GET',
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method, agent: false, headers: { connection: 'close' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(2000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.end();
  });
}

/** Starts a private redis-server on a free port (no persistence) and waits until it accepts connections. */
export async function startRedis(port?: number): Promise<Proc & { url: string }> {
  const p = port ?? (await freePort());
  const proc = launch(
    'redis-server',
    ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
    p,
  );
  await until(
    () => /Ready to accept connections/.test(proc.output()) || proc.child.exitCode !== null,
    10_000,
    'redis-server to start',
  );
  if (proc.child.exitCode !== null) throw new Error(`redis-server exited: ${proc.output()}`);
  return { ...proc, url: `redis://127.0.0.1:${p}` };
}

/** Starts `roommesh-signal` with these flags on a free port (or `port`); resolves once /readyz answers 200 (or /healthz with `waitReady: false`). */
export async function startSignal(
  flags: string[],
  options: { env?: NodeJS.ProcessEnv; waitReady?: boolean; port?: number } = {},
): Promise<Proc & { url: string }> {
  const port = options.port ?? (await freePort());
  const proc = launch(
    process.execPath,
    [CLI, '--host', '127.0.0.1', '--port', String(port), '--no-static', ...flags],
    port,
    options.env,
  );
  const path = options.waitReady === false ? '/healthz' : '/readyz';
  await until(
    async () => proc.child.exitCode !== null || (await httpGet(port, path)).status === 200,
    15_000,
    `roommesh-signal on ${port} to answer ${path}: ${proc.output()}`,
  );
  if (proc.child.exitCode !== null) throw new Error(`roommesh-signal exited: ${proc.output()}`);
  return { ...proc, url: `http://127.0.0.1:${port}` };
}

/** Stops a process (SIGKILL unless it has ended) and waits for it. */
export async function stop(proc: Proc | undefined, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (proc === undefined) return;
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill(signal);
  await proc.exited;
}

/** Stops every process these helpers started. */
export async function stopAll(): Promise<void> {
  await Promise.all(started.splice(0).map((p) => stop(p)));
}
