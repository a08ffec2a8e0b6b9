import type { BlobOutcome, Expectation, LatencyReply, LatencySend, Received } from '../protocol.js';

/**
 * One participant's side of every scenario, implemented once per transport. Each implementation does
 * what a careful user of that transport would: the scenarios (bench/scenarios/) only orchestrate.
 */
export interface Endpoint {
  /** This participant's id, as the others address it. */
  readonly id: string;
  /** Enables messaging and resolves once `expectedPeers` others are present. */
  enable(expectedPeers: number): Promise<void>;
  /** Resolves once the path to every present participant is direct; absent where every path always is. */
  untilDirect?(): Promise<void>;
  /** Resolves when the expectation is met; armed synchronously, before the call returns. */
  expect(expectation: Expectation): Promise<Received>;
  /**
   * From now on, replies to every request with the same message: sent as `send` says (where the transport
   * has the choice), from inside the message listener or from a later task. Called again, it changes how.
   */
  serveEcho(send: LatencySend, reply: LatencyReply): void;
  /** Sends `count` small messages to `to`, pipelined; resolves when `to` has them all. */
  sendMany(to: string, count: number): Promise<void>;
  /** Request and reply with `to`, one at a time, requests of ~`bytes` as JSON; resolves with each round trip in ms. */
  roundTrips(to: string, count: number, send: LatencySend, bytes: number): Promise<number[]>;
  /**
   * Sends `bytes` to `to` as one attachment, or as messages of `chunkBytes` where the transport has no
   * attachments (roommesh cuts its own); resolves when `to` has it all.
   */
  sendBlob(to: string, bytes: Uint8Array, chunkBytes: number): Promise<BlobOutcome>;
  /** Sends `count` small messages to every other participant; resolves when each of `receivers` has them all. */
  broadcastMany(count: number, receivers: string[]): Promise<void>;
  /** Events worth reporting next to the numbers, e.g. `redials`: connects that failed and were tried again. */
  counters(): Record<string, number>;
  /** Leaves: closes every connection. */
  close(): Promise<void>;
}
