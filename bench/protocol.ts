/**
 * What the coordinator and a participant say to each other, whatever hosts the participant (a Node
 * child process over IPC, or a Chromium page through playwright-core). Declared once; both sides use
 * these types.
 */

import type { PathPolicy, RoomTimeouts } from '../lib/node.js';

/** The transports a participant can measure. */
export const TRANSPORTS = [
  'roommesh',
  'roommesh-relayed',
  'roommesh-direct',
  'raw',
  'socketio',
  'roommesh-wrtc',
  'roommesh-chromium',
  'raw-chromium',
  'socketio-chromium',
] as const;

/** One of {@link TRANSPORTS}. */
export type TransportId = (typeof TRANSPORTS)[number];

/** What hosts a participant: its own Node process, or a page in the run's Chromium. */
export const HOSTS = ['node', 'chromium'] as const;

/** One of {@link HOSTS}. */
export type HostId = (typeof HOSTS)[number];

/** A baseline every transport is compared with, on its own host. */
export type BaselineRole = 'raw' | 'socketio';

/** The baselines, in table order. */
export const BASELINE_ROLES: readonly BaselineRole[] = ['raw', 'socketio'];

/** What a transport is to the comparisons: the library, or one of the baselines it is compared with. */
export type TransportRole = 'roommesh' | BaselineRole;

/** Where a transport runs and what it is. */
export interface TransportInfo {
  /** For tables and JSON. */
  label: string;
  host: HostId;
  role: TransportRole;
  /** Whether the README's goals are checked for it (roommesh as shipped, on each host's default WebRTC). */
  goals: boolean;
  /** roommesh's `paths` option, when not the library's default (`relay-first`). */
  paths?: PathPolicy;
}

/** Every transport's {@link TransportInfo}. Ratios compare a transport with the baselines of its own host. */
export const TRANSPORT_INFO: Readonly<Record<TransportId, TransportInfo>> = {
  roommesh: { label: 'roommesh (node-datachannel)', host: 'node', role: 'roommesh', goals: true },
  'roommesh-relayed': {
    label: "roommesh, paths 'relay'",
    host: 'node',
    role: 'roommesh',
    goals: false,
    paths: 'relay',
  },
  'roommesh-direct': {
    label: "roommesh, paths 'direct'",
    host: 'node',
    role: 'roommesh',
    goals: false,
    paths: 'direct',
  },
  raw: { label: 'raw simple-peer (node-datachannel)', host: 'node', role: 'raw', goals: false },
  socketio: { label: 'socket.io relay', host: 'node', role: 'socketio', goals: false },
  'roommesh-wrtc': { label: 'roommesh (@roamhq/wrtc)', host: 'node', role: 'roommesh', goals: false },
  'roommesh-chromium': { label: 'roommesh (Chromium pages)', host: 'chromium', role: 'roommesh', goals: true },
  'raw-chromium': { label: 'raw simple-peer (Chromium pages)', host: 'chromium', role: 'raw', goals: false },
  'socketio-chromium': { label: 'socket.io relay (Chromium pages)', host: 'chromium', role: 'socketio', goals: false },
};

/** What each transport is, for tables and JSON. */
export const TRANSPORT_LABELS: Readonly<Record<TransportId, string>> = Object.fromEntries(
  TRANSPORTS.map((t) => [t, TRANSPORT_INFO[t].label]),
) as Record<TransportId, string>;

/** The baseline of `role` on the host of `transport`, e.g. raw-chromium for roommesh-chromium. */
export function baselineOf(transport: TransportId, role: TransportRole): TransportId | undefined {
  const host = TRANSPORT_INFO[transport].host;
  return TRANSPORTS.find((t) => TRANSPORT_INFO[t].host === host && TRANSPORT_INFO[t].role === role && t !== transport);
}

/** True for roommesh with the relay-first path policy (the default): its pairs start relayed and move to direct. */
export function startsRelayed(transport: TransportId): boolean {
  const info = TRANSPORT_INFO[transport];
  return info.role === 'roommesh' && (info.paths === undefined || info.paths === 'relay-first');
}

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

/** How a latency request is sent, and how its reply: roommesh's `sendMessage` (acknowledged) or `sendMessageNowait`. */
export type LatencySend = 'ack' | 'nowait';

/** Where the echoing side replies: inside its message listener, or from a later task (`setImmediate`). */
export type LatencyReply = 'listener' | 'later';

/** One request/reply shape of the latency scenario. */
export interface LatencyShape {
  send: LatencySend;
  reply: LatencyReply;
  /** Size of the request (and of its reply) as JSON, type included: ~100 B or ~10 KiB. */
  bytes: number;
}

/** The outcome of sending one blob: how long, or why the transport cannot. */
export type BlobOutcome = { elapsedMs: number } | { unsupported: string };

/** Memory and CPU of one participant; a host reports what it can measure. */
export interface Usage {
  /** Peak resident set size over the participant's life (a Node process; a page cannot tell its own). */
  maxRssBytes?: number;
  /** Resident set size now. */
  rssBytes?: number;
  /** CPU time used so far, user + system (a Node process) or the page's main-thread task time. */
  cpuMs: number;
  /** JavaScript heap in use now (a page). */
  jsHeapBytes?: number;
  /**
   * Packets the page's WebRTC stack discarded on send so far, summed over its connections' candidate
   * pairs (`packetsDiscardedOnSend` in getStats; a page only). Chromium drops a packet its socket has no
   * room for, and SCTP then waits on its retransmission timer when that packet ended a burst (issue #13).
   */
  packetsDiscardedOnSend?: number;
}

/** Every operation: its arguments and its result. */
export interface Ops {
  /** Connects to the servers and joins `room` (messaging not enabled yet); returns the participant id. */
  init: [
    { transport: TransportId; urls: ServerUrls; room: string; name: string; roommeshTimeouts: Partial<RoomTimeouts> },
    { id: string },
  ];
  /**
   * Resolves once every other participant's path is direct (roommesh's `linkState`), or fails after
   * `timeoutMs`; at once for a transport that is always direct.
   */
  untilDirect: [{ timeoutMs: number }, { elapsedMs: number }];
  /**
   * Enables messaging and resolves once `expectedPeers` others are present; `cpuMs` is the participant's CPU
   * time (user + system) over that, when its host can tell (a Node process).
   */
  enable: [{ expectedPeers: number; timeoutMs: number }, { elapsedMs: number; cpuMs?: number }];
  /** Arms this participant as a receiver; returns at once. */
  expect: [Expectation, Record<string, never>];
  /** Waits until what {@link Ops.expect} armed has arrived. */
  collect: [{ timeoutMs: number }, Received];
  /** From now on, answers every request with the same message, sent and placed as told (callable again to change). */
  echo: [Omit<LatencyShape, 'bytes'>, Record<string, never>];
  /** Sends `count` small messages to `to`, pipelined, and waits until they are delivered. */
  sendMany: [{ to: string; count: number }, { elapsedMs: number }];
  /** Request and reply with `to`, `count` times, one at a time, of `bytes` each; returns each round trip. */
  roundTrips: [{ to: string; count: number; send: LatencySend; bytes: number }, { samplesMs: number[] }];
  /**
   * Sends one blob of `bytes` to `to` and waits until it is delivered; `chunkBytes` sets the size of the
   * messages the raw baseline cuts it into (default 64 KiB, `BLOB_CHUNK_BYTES` of participant/message.ts).
   */
  sendBlob: [{ to: string; bytes: number; chunkBytes?: number }, BlobOutcome];
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
