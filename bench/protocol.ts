/**
 * What the coordinator and a participant say to each other, whatever hosts the participant (a Node
 * child process over IPC today, a Chromium page later). Declared once; both sides use these types.
 */

import type { RoomTimeouts } from '../lib/node.js';

/** The transports a participant can measure. */
export const TRANSPORTS = ['roommesh', 'raw', 'socketio', 'roommesh-wrtc'] as const;

/** One of {@link TRANSPORTS}. */
export type TransportId = (typeof TRANSPORTS)[number];

/** What each transport is, for tables and JSON. */
export const TRANSPORT_LABELS: Readonly<Record<TransportId, string>> = {
  roommesh: 'roommesh (node-datachannel)',
  raw: 'raw simple-peer (node-datachannel)',
  socketio: 'socket.io relay',
  'roommesh-wrtc': 'roommesh (@roamhq/wrtc)',
};

/** Where a participant finds the servers of this run. */
export interface ServerUrls {
  /** The roommesh signaling server (also used by the raw simple-peer baseline). */
  signalingUrl: string;
  /** The bench's socket.io relay server. */
  relayUrl: string;
}

/** What a receiver waits for. */
export interface Expectation {
  /** The sender. */
  from: string;
  /** Small messages to receive, when counting messages. */
  messages?: number;
  /** Blob bytes to receive, when counting bytes. */
  bytes?: number;
}

/** What a receiver got. */
export interface Received {
  messages: number;
  bytes: number;
}

/** The outcome of sending one blob: how long, or why the transport cannot. */
export type BlobOutcome = { elapsedMs: number } | { unsupported: string };

/** Memory and CPU of one participant. */
export interface Usage {
  /** Peak resident set size over the participant's life. */
  maxRssBytes: number;
  /** Resident set size now. */
  rssBytes: number;
  /** CPU time used so far, user + system. */
  cpuMs: number;
}

/** Every operation: its arguments and its result. */
export interface Ops {
  /** Connects to the servers and joins `room` (messaging not enabled yet); returns the participant id. */
  init: [{ transport: TransportId; urls: ServerUrls; room: string; name: string; roommeshTimeouts: Partial<RoomTimeouts> }, { id: string }];
  /** Enables messaging and resolves once `expectedPeers` others are present. */
  enable: [{ expectedPeers: number; timeoutMs: number }, { elapsedMs: number }];
  /** Arms this participant as a receiver; returns at once. */
  expect: [Expectation, Record<string, never>];
  /** Waits until what {@link Ops.expect} armed has arrived. */
  collect: [{ timeoutMs: number }, Received];
  /** From now on, answers every request with a reply. */
  echo: [Record<string, never>, Record<string, never>];
  /** Sends `count` small messages to `to`, pipelined, and waits until they are delivered. */
  sendMany: [{ to: string; count: number }, { elapsedMs: number }];
  /** Request and reply with `to`, `count` times, one at a time; returns each round trip. */
  roundTrips: [{ to: string; count: number }, { samplesMs: number[] }];
  /** Sends one blob of `bytes` to `to` and waits until it is delivered. */
  sendBlob: [{ to: string; bytes: number }, BlobOutcome];
  /** Broadcasts `count` small messages to `receivers` (everyone else) and waits until all have them. */
  broadcastMany: [{ count: number; receivers: string[] }, { elapsedMs: number }];
  /** What the endpoint counted, e.g. `redials`. */
  counters: [Record<string, never>, Record<string, number>];
  /** This participant's memory and CPU. */
  usage: [Record<string, never>, Usage];
  /** Leaves and ends the participant. */
  close: [Record<string, never>, Record<string, never>];
}

/** An operation name. */
export type OpName = keyof Ops;

/** A request to a participant. */
export interface Request<K extends OpName = OpName> {
  seq: number;
  op: K;
  args: Ops[K][0];
}

/** A participant's answer to a {@link Request}. */
export type Response = { seq: number; ok: true; result: unknown } | { seq: number; ok: false; error: string };
