import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { OpName, Ops, Request, Response } from '../protocol.js';
import type { ParticipantHandle, ParticipantRuntime } from './ParticipantRuntime.js';

const PARTICIPANT_MAIN = fileURLToPath(new URL('../participant/node-main.js', import.meta.url));
/** How long a participant may take to close before it is killed. */
const STOP_GRACE_MS = 5_000;

/** Options of {@link NodeProcessRuntime}. */
export interface NodeProcessRuntimeOptions {
  /**
   * Extra Node flags for every participant process, e.g. `--cpu-prof`.
   * @default []
   */
  execArgv?: string[];
}

class NodeParticipant implements ParticipantHandle {
  readonly #proc: ChildProcess;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly exited: Promise<void>;
  #seq = 0;
  #exitReason: string | undefined;

  constructor(
    readonly name: string,
    proc: ChildProcess,
  ) {
    this.#proc = proc;
    proc.on('message', (r: Response) => {
      const p = this.#pending.get(r.seq);
      if (p === undefined) return;
      this.#pending.delete(r.seq);
      if (r.ok) p.resolve(r.result);
      else p.reject(new Error(`${name}: ${r.error}`));
    });
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.#exitReason = `${name} exited (${signal ?? code})`;
        for (const p of this.#pending.values()) p.reject(new Error(this.#exitReason));
        this.#pending.clear();
        resolve();
      });
    });
  }

  get running(): boolean {
    return this.#exitReason === undefined;
  }

  call<K extends OpName>(op: K, args: Ops[K][0], timeoutMs: number): Promise<Ops[K][1]> {
    if (this.#exitReason !== undefined) return Promise.reject(new Error(this.#exitReason));
    const seq = ++this.#seq;
    return new Promise<Ops[K][1]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(seq);
        reject(new Error(`${this.name}: ${op} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(seq, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as Ops[K][1]);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      const req: Request<K> = { seq, op, args };
      this.#proc.send(req);
    });
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    const kill = setTimeout(() => this.#proc.kill('SIGKILL'), STOP_GRACE_MS);
    await this.call('close', {}, STOP_GRACE_MS).catch(() => this.#proc.kill('SIGKILL'));
    await this.exited;
    clearTimeout(kill);
  }
}

/** Runs each participant in its own Node process, talking over IPC, as participants run in real use. */
export class NodeProcessRuntime implements ParticipantRuntime {
  readonly #execArgv: string[];
  readonly #live = new Set<NodeParticipant>();

  constructor(options: NodeProcessRuntimeOptions = {}) {
    this.#execArgv = options.execArgv ?? [];
  }

  start(name: string): Promise<ParticipantHandle> {
    // Profiles are named after the participant (e.g. pair-r1_roommesh_p0.cpuprofile), so they can be told apart.
    const execArgv = this.#execArgv.includes('--cpu-prof')
      ? [...this.#execArgv, '--cpu-prof-name', `${name.replace(/[^\w.-]+/g, '_')}.cpuprofile`]
      : this.#execArgv;
    const proc = fork(PARTICIPANT_MAIN, [name], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
    const participant = new NodeParticipant(name, proc);
    this.#live.add(participant);
    void participant.exited.then(() => this.#live.delete(participant));
    return new Promise((resolve, reject) => {
      proc.once('spawn', () => resolve(participant));
      proc.once('error', reject);
    });
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#live].map((p) => p.stop()));
  }
}
