import type { Expectation, OpName, Ops, Received, Usage } from '../protocol.js';
import type { Endpoint } from './Endpoint.js';
import { BLOB_CHUNK_BYTES, blobBytes } from './message.js';

/** What the host of a participant supplies: how to make an endpoint, and how to read its resources. */
export interface AgentHost {
  createEndpoint(init: Ops['init'][0]): Promise<Endpoint>;
  usage(): Usage;
  /** This participant's CPU time so far (user + system), when the host can read it cheaply (a Node process). */
  cpuMs?(): number;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * One participant of a bench run: carries out the coordinator's operations on its endpoint. It does
 * not know how it is hosted (a Node process, or a Chromium page): the host passes requests in.
 */
export class Agent {
  readonly #host: AgentHost;
  #endpoint: Endpoint | undefined;
  #expected: Promise<Received> | undefined;
  /** The blob is made once per size, outside the timed part. */
  #blob: Uint8Array | undefined;

  constructor(host: AgentHost) {
    this.#host = host;
  }

  /** Carries out one operation. */
  async handle<K extends OpName>(op: K, args: Ops[K][0]): Promise<Ops[K][1]> {
    return (await this.#run(op, args as never)) as Ops[K][1];
  }

  async #run(op: OpName, args: Record<string, unknown>): Promise<unknown> {
    if (op === 'init') {
      const a = args as Ops['init'][0];
      if (this.#endpoint !== undefined) throw new Error('init: already initialised');
      this.#endpoint = await this.#host.createEndpoint(a);
      return { id: this.#endpoint.id };
    }
    if (op === 'usage') return this.#host.usage();
    const ep = this.#endpoint;
    if (ep === undefined) throw new Error(`${op}: init first`);
    switch (op) {
      case 'enable': {
        const a = args as Ops['enable'][0];
        const cpu0 = this.#host.cpuMs?.();
        const t0 = performance.now();
        await withTimeout(ep.enable(a.expectedPeers), a.timeoutMs, 'enable');
        const elapsedMs = performance.now() - t0;
        const cpu1 = this.#host.cpuMs?.();
        return cpu0 === undefined || cpu1 === undefined ? { elapsedMs } : { elapsedMs, cpuMs: cpu1 - cpu0 };
      }
      case 'untilDirect': {
        const t0 = performance.now();
        if (ep.untilDirect !== undefined)
          await withTimeout(ep.untilDirect(), (args as Ops['untilDirect'][0]).timeoutMs, 'untilDirect');
        return { elapsedMs: performance.now() - t0 };
      }
      case 'expect': {
        const expected = ep.expect(args as unknown as Expectation);
        expected.catch(() => {}); // reported by collect
        this.#expected = expected;
        return {};
      }
      case 'collect': {
        const expected = this.#expected;
        if (expected === undefined) throw new Error('collect: nothing expected');
        this.#expected = undefined;
        return await withTimeout(expected, (args as Ops['collect'][0]).timeoutMs, 'collect');
      }
      case 'echo': {
        const a = args as Ops['echo'][0];
        ep.serveEcho(a.send, a.reply);
        return {};
      }
      case 'sendMany': {
        const a = args as Ops['sendMany'][0];
        const t0 = performance.now();
        await ep.sendMany(a.to, a.count);
        return { elapsedMs: performance.now() - t0 };
      }
      case 'roundTrips': {
        const a = args as Ops['roundTrips'][0];
        return { samplesMs: await ep.roundTrips(a.to, a.count, a.send, a.bytes) };
      }
      case 'sendBlob': {
        const a = args as Ops['sendBlob'][0];
        if (this.#blob?.byteLength !== a.bytes) this.#blob = blobBytes(a.bytes);
        return await ep.sendBlob(a.to, this.#blob, a.chunkBytes ?? BLOB_CHUNK_BYTES);
      }
      case 'broadcastMany': {
        const a = args as Ops['broadcastMany'][0];
        const t0 = performance.now();
        await ep.broadcastMany(a.count, a.receivers);
        return { elapsedMs: performance.now() - t0 };
      }
      case 'counters':
        return ep.counters();
      case 'close':
        this.#endpoint = undefined;
        await ep.close();
        return {};
      default:
        throw new Error(`unknown operation ${String(op)}`);
    }
  }
}
