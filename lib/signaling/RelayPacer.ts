/**
 * Relayed frames on their way to the server, paced to its terms. The server refuses (and drops) a frame
 * over its per-connection byte rate, and a dropped frame breaks the relayed link it belonged to; so the
 * client keeps to the rate itself, with the same token bucket the server runs, and frames wait here, in
 * order, until the bucket has room, and until the connection's event window has room (lib/signaling/
 * EventWindow.ts: the server refuses events past its queue's limit too). What waits is bounded by the relayed
 * links' windows (each may have at most its window unacknowledged), not by this queue.
 */
import { ConnectionError } from '../errors.js';
import type { RelayTerms } from '../protocol/signaling.js';
import { TokenBucket } from '../util/token-bucket.js';
import { unrefTimer } from '../util/schedule.js';

interface Queued {
  to: string;
  data: Uint8Array;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Sends one frame on the connection, at once or once the connection's event window has room, then calls
 * `sent` (true: handed to the connection; false: the connection is gone).
 */
type Emit = (to: string, data: Uint8Array, sent: (ok: boolean) => void) => void;

/**
 * How late, at most, one frame may reach the server's bucket compared with the frames after it, without a
 * refusal: the client keeps this much of the server's rate as the server's spare, out of its own burst.
 */
export const RELAY_JITTER_MS = 250;

/**
 * The client's own bucket for `terms`. The server meters frames as it reads them, and they reach it later
 * than they left by a delay that varies (the client's socket, the network, the server's event loop). A frame
 * held back, then read together with the ones after it, looks to the server like a burst: after the client
 * has spent a burst of `b` out of the server's `B`, the server refuses once the frames it reads together
 * exceed what `B - b` and its rate cover. So the client's burst leaves the server `RELAY_JITTER_MS` of its rate
 * (at least a frame's worth of burst stays the client's, else a full frame could never go), and its rate is a
 * little under the server's, so clocks that tick differently never add up to a refusal. Measured (chaos soak
 * on a Redis fleet, 2 cores under load): with 98% of the server's burst, honest clients were refused
 * (`RelayRateLimited`) every few tens of seconds, each refusal closing a relayed link.
 */
export function pacedBucket(terms: RelayTerms, nowMs: number): TokenBucket | undefined {
  if (terms.bytesPerSecond <= 0) return undefined;
  const rate = terms.bytesPerSecond * 0.98;
  const floor = Math.min(terms.burstBytes * 0.98, terms.maxFrameBytes + (terms.frameCostBytes ?? 0));
  const burst = Math.max(floor, terms.burstBytes - (terms.bytesPerSecond * RELAY_JITTER_MS) / 1000);
  return new TokenBucket(rate, burst, nowMs);
}

/** Paces relayed frames to a server's {@link RelayTerms}. @internal */
export class RelayPacer {
  readonly terms: RelayTerms;
  readonly #emit: Emit;
  readonly #bucket: TokenBucket | undefined;
  /** What each frame counts beyond its data in the server's bucket (its terms' `frameCostBytes`). */
  readonly #frameCost: number;
  #queue: Queued[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** True while the head frame waits for the event window. */
  #emitting = false;
  #failed: ConnectionError | undefined;

  constructor(terms: RelayTerms, emit: Emit) {
    this.terms = terms;
    this.#emit = emit;
    this.#bucket = pacedBucket(terms, Date.now());
    this.#frameCost = terms.frameCostBytes ?? 0;
  }

  /** Queues a frame; resolves once it is handed to the connection, rejects when it cannot be. */
  send(to: string, data: Uint8Array): Promise<void> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    return new Promise((resolve, reject) => {
      this.#queue.push({ to, data, resolve, reject });
      this.#pump();
    });
  }

  /** Rejects what waits and everything later with `err` (the connection this pacer served is gone). */
  fail(err: ConnectionError): void {
    this.#failed ??= err;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const queue = this.#queue;
    this.#queue = [];
    for (const q of queue) q.reject(err);
  }

  #gone(): ConnectionError {
    return ConnectionError.disconnected('relay');
  }

  #pump(): void {
    if (this.#timer !== undefined || this.#emitting) return;
    while (this.#queue.length > 0 && this.#failed === undefined) {
      const head = this.#queue[0] as Queued;
      // A frame over the whole burst can never fit (the server would refuse it too): it goes, and is refused.
      const cost = head.data.byteLength + this.#frameCost;
      const waitMs = this.#bucket?.msUntil(Date.now(), cost) ?? 0;
      if (waitMs > 0 && waitMs !== Infinity) {
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#pump();
        }, Math.ceil(waitMs));
        unrefTimer(this.#timer);
        return;
      }
      this.#emitting = true;
      let sync = true;
      this.#emit(head.to, head.data, (ok) => {
        this.#emitting = false;
        if (this.#queue[0] !== head) return; // failed meanwhile: already rejected
        // Taken as it leaves: the bucket only filled while the frame waited for the window.
        this.#bucket?.take(Date.now(), cost);
        this.#queue.shift();
        if (ok) head.resolve();
        else head.reject(this.#gone());
        if (!sync) this.#pump();
      });
      sync = false;
      if (this.#emitting) return; // waits for the event window; its callback pumps on
    }
  }
}
