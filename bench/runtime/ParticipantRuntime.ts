import type { OpName, Ops } from '../protocol.js';

/** A running participant, whatever hosts it. */
export interface ParticipantHandle {
  /** Its name in the run, for messages. */
  readonly name: string;
  /** Asks it to carry out one operation; rejects with its error, or after `timeoutMs`. */
  call<K extends OpName>(op: K, args: Ops[K][0], timeoutMs: number): Promise<Ops[K][1]>;
  /** Ends it: politely (close) and, when that does not finish in time, by force. */
  stop(): Promise<void>;
}

/**
 * Where participants live: NodeProcessRuntime runs each in its own process, ChromiumRuntime each in a
 * page of one Chromium driven by playwright-core.
 */
export interface ParticipantRuntime {
  /** Starts one participant. */
  start(name: string): Promise<ParticipantHandle>;
  /** Stops every participant this runtime started that is still running. */
  stopAll(): Promise<void>;
}
