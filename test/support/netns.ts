/**
 * Participants in network namespaces of their own (`ip netns`), for tests of networks that cut or never
 * join. Each namespace has only its loopback; the signaling server (on the test's 127.0.0.1) is reached
 * through a Unix socket, which crosses namespaces (the fixture forwards a local TCP port to it). So
 * participants in two namespaces reach the server and never each other. Needs root and iproute2.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A server that pipes each connection it accepts to one `dial()` opens, both ways; an error on either ends both. */
export function pipeServer(dial: () => Socket): Server {
  return createServer((local) => {
    const remote = dial();
    local.pipe(remote);
    remote.pipe(local);
    local.on('error', () => remote.destroy());
    remote.on('error', () => local.destroy());
  });
}

/**
 * For a participant in a namespace: a port on its 127.0.0.1 that forwards to the Unix socket `socketPath`
 * (which reaches the server in the test's namespace). Resolves with the port; does not keep the process alive.
 */
export async function forwardLocalPort(socketPath: string): Promise<number> {
  const forwarder = pipeServer(() => connect({ path: socketPath }));
  await new Promise<void>((resolve) => forwarder.listen(0, '127.0.0.1', () => resolve()));
  forwarder.unref();
  return (forwarder.address() as AddressInfo).port;
}

/** Runs `ip` with `args`; true when it succeeded. */
export const ip = (...args: string[]): boolean => spawnSync('ip', args, { stdio: 'ignore' }).status === 0;

/** A participant process in a namespace, and what it reported over IPC. */
export interface NsParticipant {
  proc: ChildProcess;
  id: string;
  /** Its ready report: { ready: id, ... }. */
  ready: Record<string, unknown>;
  events: Array<Record<string, unknown>>;
}

/** Namespaces, the Unix socket to the server, and the participant processes of one suite; {@link close} removes them all. */
export class NetnsLab {
  readonly socketPath: string;
  readonly #prefix: string;
  readonly #namespaces = new Set<string>();
  readonly #procs: ChildProcess[] = [];
  #forwarder: Server | undefined;

  constructor(prefix: string) {
    this.#prefix = `${prefix}-${process.pid}`;
    this.socketPath = join(tmpdir(), `${this.#prefix}.sock`);
  }

  /** True where namespaces can be made (root and `ip netns`). */
  static available(): boolean {
    return process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list'], { stdio: 'ignore' }).status === 0;
  }

  /** Makes namespace `name` (prefixed; returned) with its loopback up. */
  namespace(name: string): string {
    const ns = `${this.#prefix}-${name}`;
    ip('netns', 'del', ns);
    if (!ip('netns', 'add', ns) || !ip('-n', ns, 'link', 'set', 'lo', 'up'))
      throw new Error(`cannot make network namespace ${ns}`);
    this.#namespaces.add(ns);
    return ns;
  }

  /** Forwards the Unix socket to the server on 127.0.0.1:`port` (once per suite). */
  async forwardTo(port: number): Promise<void> {
    rmSync(this.socketPath, { force: true });
    this.#forwarder?.close();
    const forwarder = pipeServer(() => connect(port, '127.0.0.1'));
    this.#forwarder = forwarder;
    await new Promise<void>((resolve) => forwarder.listen(this.socketPath, () => resolve()));
  }

  /** Starts `fixture` with `args` in namespace `ns`; resolves once it reports { ready: id }. */
  start(ns: string, fixture: string, args: string[], what: string, timeoutMs = 20_000): Promise<NsParticipant> {
    const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, fixture, ...args], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#procs.push(proc);
    const events: Array<Record<string, unknown>> = [];
    proc.on('message', (m: Record<string, unknown>) => events.push(m));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what} did not get ready`)), timeoutMs);
      proc.on('message', (m: Record<string, unknown>) => {
        if (typeof m.ready !== 'string') return;
        clearTimeout(timer);
        resolve({ proc, id: m.ready, ready: m, events });
      });
      proc.once('exit', (code) => reject(new Error(`${what} exited with ${code}`)));
    });
  }

  /** Kills every participant, and removes the socket and the namespaces. */
  async close(): Promise<void> {
    for (const p of this.#procs) p.kill('SIGKILL');
    await Promise.all(
      this.#procs.map((p) =>
        p.exitCode === null && p.signalCode === null ? new Promise((r) => p.once('exit', r)) : Promise.resolve(),
      ),
    );
    this.#forwarder?.close();
    rmSync(this.socketPath, { force: true });
    for (const ns of this.#namespaces) ip('netns', 'del', ns);
    this.#namespaces.clear();
  }
}

/** Waits until `p` reported an event `match` accepts; resolves with the ms it took, or throws saying what it saw. */
export async function waitForEvent(
  p: NsParticipant,
  match: (e: Record<string, unknown>) => boolean,
  timeoutMs: number,
  what: string,
): Promise<number> {
  const t0 = Date.now();
  while (!p.events.some(match)) {
    if (Date.now() - t0 > timeoutMs)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; saw ${JSON.stringify(p.events).slice(-2000)}`,
      );
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - t0;
}

/** The last event of `p` that `match` accepts. */
export function lastEvent(
  p: NsParticipant,
  match: (e: Record<string, unknown>) => boolean,
): Record<string, unknown> | undefined {
  return [...p.events].reverse().find(match);
}
