/** The options of {@link Room.connect}, with their defaults. */
import type { ReceiveLimits, RoomTimeouts } from './defaults.js';
import type { WebRTCImplementation } from './link/webrtc.js';
import type { Logger } from './logger.js';
import type { PathPolicy } from './mesh/paths.js';
import { defaultLogger } from './logger.js';
import type { JsonObject } from './protocol/json.js';
import type { IceServer } from './protocol/signaling.js';

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
  /**
   * Which paths messages take to each participant (see {@link PathPolicy}). `relay-first` makes every pair
   * present within a round trip to the signaling server and moves it onto a direct data channel as soon
   * as one opens; the server carries a pair's bytes only until then, or for good where direct cannot work.
   * @default 'relay-first'
   */
  paths?: PathPolicy;
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

/** The highest `maxAttachmentBytes` accepted: the largest Uint8Array every supported runtime can allocate (4 GiB - 1). */
export const MAX_ATTACHMENT_BYTES_LIMIT = 2 ** 32 - 1;

/** Every {@link RoomOptions} name (compiles only while it lists them all): another is refused, not ignored. */
export const ROOM_OPTION_NAMES = Object.freeze({
  url: true,
  room: true,
  name: true,
  attributes: true,
  token: true,
  iceServers: true,
  wrtc: true,
  maxAttachmentBytes: true,
  receiveLimits: true,
  paths: true,
  rtcConfig: true,
  timeouts: true,
  logger: true,
} satisfies Record<keyof RoomOptions, true>);

/** Defaults of the optional {@link RoomOptions} fields. */
export const DEFAULT_ROOM_OPTIONS = Object.freeze({
  attributes: Object.freeze({}) as JsonObject,
  maxAttachmentBytes: 256 * 1024 * 1024,
  paths: 'relay-first',
  logger: defaultLogger,
});
