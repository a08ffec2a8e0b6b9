import type { WebRTCImplementation } from './link/webrtc.js';
import type { Logger } from './logger.js';
import type { IceServer } from './protocol/signaling.js';
import type { JsonObject } from './protocol/json.js';
import { defaultLogger } from './logger.js';


/** Tunable timings of a room. Every field has a default; units are in the names. */
export interface RoomTimeouts {
  /**
   * How long `Room.connect` waits for the signaling server to accept the connection and the join.
   * @default 10000
   */
  signalingTimeoutMs: number;
  /**
   * How long one attempt to open a data channel to a participant may take before it is retried.
   * @default 5000
   */
  connectAttemptTimeoutMs: number;
  /**
   * How many attempts to open a data channel to a participant `enable()` waits for before it stops waiting
   * for that participant. Attempts go on in the background, with backoff, while the participant stays.
   * @default 4
   */
  connectAttempts: number;
  /**
   * The longest wait between two attempts to reconnect, to the signaling server or over a failed data
   * channel. Waits grow with jitter: a data channel is re-dialed first within 50 ms, then after 400 ms doubling;
   * the signaling server is tried again after a wait doubling from 250 ms.
   * @default 10000
   */
  reconnectMaxDelayMs: number;
  /**
   * How long `sendMessage` waits for the recipient's acknowledgement.
   * @default 30000
   */
  ackTimeoutMs: number;
  /**
   * How often an idle link sends a heartbeat.
   * @default 1000
   */
  heartbeatIntervalMs: number;
  /**
   * How long a link may stay silent before the participant is taken as gone and removed from presence.
   * @default 5000
   */
  heartbeatTimeoutMs: number;
  /**
   * How long an incoming attachment may go without a chunk before it is refused (`Stalled`) and its buffer
   * freed. Checked every heartbeat interval.
   * @default 30000
   */
  attachmentStallTimeoutMs: number;
}

/** Limits on what this participant takes in from the others. Every field has a default; units are in the names. */
export interface ReceiveLimits {
  /**
   * The most bytes held at once for incoming attachments that are still arriving, over all participants. A
   * buffer is allocated whole when an attachment starts; a start that would pass this is refused (`NoMemory`).
   * @default 1073741824 (1 GiB)
   */
  maxIncomingAttachmentBytesTotal: number;
  /**
   * Sustained rate, in bytes per second, at which one participant may send to this one (a token bucket on
   * received bytes, refilled at this rate up to `receiveBurstBytes`). A participant over it gets a
   * `LimitExceeded` error and its link is closed.
   * @default 134217728 (128 MiB/s)
   */
  receiveBytesPerSecond: number;
  /**
   * Bytes one participant may send above `receiveBytesPerSecond` in a burst.
   * @default 268435456 (256 MiB)
   */
  receiveBurstBytes: number;
}

/** Options of {@link Room.connect}. */
export interface RoomOptions {
  /** URL of the signaling server, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Name of the room to join. */
  room: string;
  /** This participant's name; others find it with `getParticipantByName`. */
  name: string;
  /**
   * This participant's own attributes, any JSON values; others see them and their updates.
   * @default {}
   */
  attributes?: JsonObject;
  /** Auth token for servers that require one. */
  token?: string;
  /**
   * ICE servers for the peer connections. When absent, the ones the signaling server hands out are used,
   * and when it hands out none, no ICE servers (host candidates only).
   */
  iceServers?: IceServer[];
  /**
   * A WebRTC implementation (`wrtc`-shaped). Browsers use their own; the Node entry uses node-datachannel.
   */
  wrtc?: WebRTCImplementation;
  /**
   * The largest attachment this participant sends or accepts, in bytes. A peer that announces a larger one
   * is refused; the receiver never allocates more than this per message (and holds at most 4 at once per peer).
   * At most {@link MAX_ATTACHMENT_BYTES_LIMIT}.
   * @default 268435456 (256 MiB)
   */
  maxAttachmentBytes?: number;
  /** Limits on what other participants may make this one hold; any field left out keeps its default. */
  receiveLimits?: Partial<ReceiveLimits>;
  /** Extra RTCPeerConnection configuration, merged under `iceServers`. */
  rtcConfig?: Record<string, unknown>;
  /** Timings; any field left out keeps its default. */
  timeouts?: Partial<RoomTimeouts>;
  /**
   * Where the library logs. Debug and info are silent by default.
   * @default defaultLogger
   */
  logger?: Logger;
}

/** The default timings. */
export const DEFAULT_TIMEOUTS: Readonly<RoomTimeouts> = Object.freeze({
  signalingTimeoutMs: 10_000,
  connectAttemptTimeoutMs: 5_000,
  connectAttempts: 4,
  reconnectMaxDelayMs: 10_000,
  ackTimeoutMs: 30_000,
  heartbeatIntervalMs: 1_000,
  heartbeatTimeoutMs: 5_000,
  attachmentStallTimeoutMs: 30_000,
});

/** The default receive limits. */
export const DEFAULT_RECEIVE_LIMITS: Readonly<ReceiveLimits> = Object.freeze({
  maxIncomingAttachmentBytesTotal: 1024 * 1024 * 1024,
  receiveBytesPerSecond: 128 * 1024 * 1024,
  receiveBurstBytes: 256 * 1024 * 1024,
});

/** The highest `maxAttachmentBytes` accepted: the largest Uint8Array every supported runtime can allocate (4 GiB - 1). */
export const MAX_ATTACHMENT_BYTES_LIMIT = 2 ** 32 - 1;

/** Defaults of the optional {@link RoomOptions} fields. */
export const DEFAULT_ROOM_OPTIONS = Object.freeze({
  attributes: Object.freeze({}) as JsonObject,
  maxAttachmentBytes: 256 * 1024 * 1024,
  logger: defaultLogger,
});
