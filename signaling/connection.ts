/**
 * What the server's modules share about one client connection: its state, the socket.io types, and the
 * parts of the server a request handler may use. Types only, so every module can import it.
 */
import type { Server, Socket } from 'socket.io';
import type { ClientToServerEvents, ParticipantInfo, ServerToClientEvents } from '../lib/protocol/signaling.js';
import type { Authenticator } from './auth.js';
import type { KeyedRateLimiter, TokenBucket } from './limits.js';
import type { MembershipStore } from './membership.js';
import type { ServerMetrics } from './metrics.js';
import type { ResolvedServerOptions } from './options.js';
import type { ServerLogger } from './options-serving.js';
import type { ParticipantRegistry } from './participant-registry.js';
import type { ResumeTokens } from './resume.js';

/** The room a connection joined, and the participant it stands for there. */
export interface Member {
  room: string;
  info: ParticipantInfo;
  enabled: boolean;
}

/** What the server keeps per connection (socket.io's `socket.data`). */
export interface ConnectionState {
  ip: string;
  member?: Member;
  signals?: TokenBucket;
  toggles?: TokenBucket;
  /** Relayed bytes this connection may send (absent: no per-connection limit). */
  relayBytes?: TokenBucket;
}

/** The socket.io server, typed with the signaling event maps. */
export type ServerIo = Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, ConnectionState>;

/** One client connection, typed with the signaling event maps. */
export type ServerSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, ConnectionState>;

/** Participants reached by one send, on whichever process of a fleet holds them. */
export type Recipients = ReturnType<ServerIo['to']>;

/** Sends to participants `ids` of `room`; nothing when `ids` is empty. */
export type Tell = (room: string, ids: string[], send: (to: Recipients) => void) => void;

/** Runs a membership store call; a failure becomes the request's `Unavailable` refusal. */
export type FromStore = <T>(call: () => Promise<T>) => Promise<T>;

/** The server's parts that request handlers use, the same for every connection. */
export interface HandlerContext {
  readonly opts: ResolvedServerOptions;
  readonly logger: ServerLogger;
  readonly store: MembershipStore;
  readonly metrics: ServerMetrics;
  readonly registry: ParticipantRegistry<ServerSocket>;
  readonly auth: Authenticator | undefined;
  readonly joinLimiter: KeyedRateLimiter | undefined;
  readonly tell: Tell;
  /**
   * As {@link tell}, for participants this process has (their connection is here): past the fleet's Redis
   * stream, which would keep a copy of each send (see relay-handlers.ts). The same as `tell` without a fleet.
   */
  readonly tellHere: Tell;
  /** The process-wide relay budget, in bytes (absent: no budget). */
  readonly relayBudget: TokenBucket | undefined;
  readonly fromStore: FromStore;
  /** The resume tokens' signer, once its key is known (a fleet's comes from Redis). */
  resumeTokens(): Promise<ResumeTokens>;
  /** True once the server drains or closes: joins and resumes are refused. */
  isDraining(): boolean;
}
