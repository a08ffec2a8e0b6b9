/**
 * Signaling events between a client and the signaling server, declared once and used by both:
 * the server is a `Server<ClientToServerEvents, ServerToClientEvents>`, the client a
 * `Socket<ServerToClientEvents, ClientToServerEvents>`. docs/PROTOCOL.md describes each event.
 *
 * This file holds the event maps, the shapes they carry, the limits and the error reasons. What checks
 * those shapes on arrival: signaling-checks.ts (join, resume, signal, participants) and
 * signaling-relay-checks.ts (the relay events); neither throws.
 */

/** Version of the signaling protocol, sent in `join`; the server refuses other versions. */
export const SIGNALING_VERSION = 1;

/** Longest room name, participant name, or participant id, in UTF-16 code units. */
export const MAX_NAME_LENGTH = 128;

/** Longest SDP accepted in an offer or answer. */
export const MAX_SDP_LENGTH = 32 * 1024;

/** Longest ICE candidate line accepted. */
export const MAX_CANDIDATE_LENGTH = 1024;

/** Longest resume token accepted. */
export const MAX_RESUME_TOKEN_LENGTH = 2048;
/**
 * The most participants one room holds (the server's `maxParticipantsPerRoom` goes no higher). A client
 * takes no more than this from a list or from the participants the server announces: a server, or anyone in
 * the middle of a plain `ws://` connection, that named a million made it hold and dial them all.
 */
export const MAX_ROOM_PARTICIPANTS = 100_000;

/** Longest connection id (chosen by the initiator to tell attempts apart). */
export const MAX_CID_LENGTH = 64;

/**
 * Longest `relayKey` accepted: base64url of a P-256 public key in raw (uncompressed) form is 87 characters;
 * the limit leaves room for a future key kind and no more.
 */
export const MAX_RELAY_KEY_LENGTH = 128;

/** Largest relayed frame any server accepts, whatever its options say (the `relay` event's `data`). */
export const MAX_RELAY_FRAME_BYTES = 256 * 1024;

/**
 * Bytes each relayed frame counts beyond its `data` in a server's relay limits (its `relay.frameCostBytes`):
 * a frame costs the server a handler run, a membership lookup and a delivery whatever its size, so that
 * tiny frames cannot pass its byte limits a thousand times a second more than full ones. An honest client's
 * small frames (one per turn of a quiet link) come nowhere near: a thousand a second cost 0.5 MB/s of 4.
 */
export const RELAY_FRAME_COST_BYTES = 512;

/**
 * Smallest `relay.maxFrameBytes` a server may offer and a client takes: a sealed frame's 41 bytes of header
 * and tag leave at least 1 KiB of a session's stream (smaller frames would cost a seal, an open and two
 * events for almost nothing).
 */
export const MIN_RELAY_FRAME_BYTES = 2048;

/** A participant as the signaling server describes it. `id` and `name` are the server's, never the client's say. */
export interface ParticipantInfo {
  /** Assigned by the server, unique within the room. */
  id: string;
  /** The participant's name (from the join request, or from the token when auth is on). */
  name: string;
  /** Server time the participant joined, in ms since the epoch; orders participants that share a name. */
  joinedAtMs: number;
  /**
   * The participant's public key for end-to-end encrypted relayed frames (base64url, P-256 raw form), as
   * it gave it in its join; absent when it gave none (it then cannot be relayed to).
   */
  relayKey?: string;
}

/** What a server that relays tells each client in its join and resume replies: its relay limits. */
export interface RelayTerms {
  /** Largest `relay` event `data` it accepts, in bytes. */
  maxFrameBytes: number;
  /** Bytes of relayed `data` per second one connection may send on average (0: no limit). */
  bytesPerSecond: number;
  /** Bytes of relayed `data` one connection may send at once after being quiet. */
  burstBytes: number;
  /** Bytes each frame counts beyond its `data` in both (absent from older servers: 0). */
  frameCostBytes?: number;
}

/** An ICE candidate as simple-peer signals it. */
export interface CandidateInit {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/** WebRTC signaling data relayed between two participants: simple-peer's offer, answer and candidate shapes. */
export type SignalData = { type: 'offer' | 'answer'; sdp: string } | { type: 'candidate'; candidate: CandidateInit };

/** An ICE server handed to clients. */
export interface IceServer {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/**
 * Why the server refused an event or a connection. A refused connection (socket.io middleware) carries
 * the reason in its `connect_error` `data.reason`; a refused event in its {@link Reply}.
 * - `AlreadyJoined`: the connection already joined a room (one connection joins exactly one room)
 * - `PayloadTooLarge`: the event is larger than the server's `maxPayloadBytes` (dropped; the connection stays)
 * - `SignalRateLimited`: this connection sent signals faster than its token bucket allows
 * - `JoinRateLimited`: too many joins from this IP address per second
 * - `TooManyRequests`: too many events of this connection are waiting to be handled
 * - `RoomFull`: the room has `maxParticipantsPerRoom` participants (across every process of a fleet)
 * - `IdInUse`: the participant id fixed by the token is already in the room
 * - `ServerFull`: connection refused, the server has `maxConnections` connections
 * - `TooManyConnections`: connection refused, this IP address has `maxConnectionsPerIp` connections
 * - `ToggleRateLimited`: this connection sent `enable_messaging`/`disable_messaging` faster than its token bucket allows
 * - `SlowConsumer`: never sent; counts connections dropped because their client left over
 *   `maxUnreadOutputBytes` of what it was sent unread
 * - `OriginNotAllowed`: connection refused, the page origin is not among the allowed origins
 * - `Draining`: connection or join refused, the server is shutting down
 * - `Unavailable`: the server cannot do this now (its Redis or its JWKS is unreachable); try again later
 * - `TokenMissing`, `TokenInvalid`, `TokenExpired`: no token, or one whose signature, algorithm, issuer,
 *   audience or claims are not accepted, or one that has expired
 * - `RoomNotAllowed`: the token is valid but does not name this room
 * - `ResumeInvalid`: a resume token that this server did not issue, that has expired, that was used
 *   already (each works once), or whose participant said goodbye; join again as a new participant
 * - `PeerNotEnabled`: a signal or relay to a participant of the room that does not have messaging enabled
 * - `RelayDisabled`: a `relay` to a server that does not relay (`--no-relay`)
 * - `RelayRateLimited`: this connection relayed more bytes per second than its token bucket allows
 * - `RelayBudgetExceeded`: the server relays as many bytes per second as its process-wide budget allows
 * - `NoRelayKey`: a `relay` to a participant that gave no relay key (it cannot open what it would get)
 */
export type SignalingErrorReason =
  | 'BadRequest'
  | 'UnsupportedVersion'
  | 'NotJoined'
  | 'AlreadyJoined'
  | 'NotEnabled'
  | 'UnknownParticipant'
  | 'PayloadTooLarge'
  | 'SignalRateLimited'
  | 'JoinRateLimited'
  | 'TooManyRequests'
  | 'RoomFull'
  | 'IdInUse'
  | 'ServerFull'
  | 'TooManyConnections'
  | 'ToggleRateLimited'
  | 'SlowConsumer'
  | 'OriginNotAllowed'
  | 'Draining'
  | 'Unavailable'
  | 'TokenMissing'
  | 'TokenInvalid'
  | 'TokenExpired'
  | 'RoomNotAllowed'
  | 'ResumeInvalid'
  | 'PeerNotEnabled'
  | 'RelayDisabled'
  | 'RelayRateLimited'
  | 'RelayBudgetExceeded'
  | 'NoRelayKey'
  | 'Internal';

/** What the server attaches to a refused connection (`connect_error`'s `data`). */
export interface ConnectRefusal {
  reason: SignalingErrorReason;
}

/** The server's answer to an acknowledged event. */
export type Reply<T> = { ok: true; data: T } | { ok: false; error: { reason: SignalingErrorReason; message: string } };

/** `join` request: enter a room under a name. */
export interface JoinRequest {
  v: number;
  room: string;
  name: string;
  token?: string;
  /** This participant's public key for relayed frames (see {@link ParticipantInfo.relayKey}). */
  relayKey?: string;
}

/** `join` reply. */
export interface JoinReply {
  self: ParticipantInfo;
  /**
   * ICE servers the server wants clients to use; absent when it has no opinion. TURN entries carry
   * time-limited credentials (the TURN REST scheme), valid until `iceServersExpireAtMs`.
   */
  iceServers?: IceServer[];
  /** When the TURN credentials in `iceServers` expire, in ms since the epoch; absent without TURN. */
  iceServersExpireAtMs?: number;
  /**
   * Proof of this participant's identity for `resume`, should the connection drop: signed by the server,
   * valid for a while (the server's `resumeTokenTtlMs`); every resume reply carries a fresh one.
   */
  resumeToken: string;
  /** The server's relay limits; absent when the server does not relay (`--no-relay`). */
  relay?: RelayTerms;
  /**
   * Most events of one connection the server lets wait (`TooManyRequests` past it): a client keeps fewer in
   * flight. Absent from servers older than this field.
   */
  maxPendingEvents?: number;
}

/** `resume` request: come back on a new connection as the participant a resume token names. */
export interface ResumeRequest {
  v: number;
  token: string;
  /** Whether this participant has messaging enabled now (it may have changed while it was away). */
  messagingEnabled: boolean;
  /** This participant's public key for relayed frames, as in its join (the token does not carry it). */
  relayKey?: string;
}

/** `resume` reply: as for `join`, plus the enabled participants when `messagingEnabled` was true. */
export interface ResumeReply extends JoinReply {
  participants: ParticipantInfo[];
}

/** `signal` as a client sends it. */
export interface OutgoingSignal {
  to: string;
  cid: string;
  data: SignalData;
}

/** `signal` as the server delivers it: `from` is stamped by the server. */
export interface IncomingSignal {
  from: string;
  cid: string;
  data: SignalData;
}

/** `relay` as a client sends it: opaque bytes for participant `to` (sealed end to end by the clients). */
export interface OutgoingRelay {
  to: string;
  data: Uint8Array;
}

/** `relay` as the server delivers it: `from` is stamped by the server. */
export interface IncomingRelay {
  from: string;
  data: Uint8Array;
}

/** A `relay` the server refused: the frame was dropped. */
export interface RelayRefusal {
  /** The participant the frame was for. */
  to: string;
  reason: SignalingErrorReason;
  message: string;
}

/** Events a client sends. Every one takes an acknowledgement callback (optional for `relay`); the server answers each with a {@link Reply}. */
export interface ClientToServerEvents {
  join: (req: JoinRequest, ack: (reply: Reply<JoinReply>) => void) => void;
  resume: (req: ResumeRequest, ack: (reply: Reply<ResumeReply>) => void) => void;
  enable_messaging: (ack: (reply: Reply<{ participants: ParticipantInfo[] }>) => void) => void;
  disable_messaging: (ack: (reply: Reply<Record<string, never>>) => void) => void;
  signal: (signal: OutgoingSignal, ack: (reply: Reply<Record<string, never>>) => void) => void;
  /**
   * Bytes for another enabled participant of the room, relayed by the server. Usually no acknowledgement
   * (one per frame would double the messages): a refusal comes back as `relay_refused`. A client may ask for
   * one now and then: answered in order, it says every earlier event of the connection was handled.
   */
  relay: (frame: OutgoingRelay, ack?: (reply: Reply<undefined>) => void) => void;
}

/** Events the server sends. */
export interface ServerToClientEvents {
  /** Another participant of the room enabled messaging; it will dial this client (relayed, direct, or both). */
  peer_enabled: (p: ParticipantInfo) => void;
  /** Another participant disabled messaging or left the room. */
  peer_disabled: (p: { id: string }) => void;
  /**
   * Another enabled participant's connection to the server dropped without a goodbye; it may resume
   * shortly, or it may be gone. Its data channel, if it still works, says which.
   */
  /** `processDied`: the participant's server process died (a fleet process adopted it); absent: its connection dropped. */
  peer_disconnected: (p: { id: string; processDied?: boolean }) => void;
  signal: (signal: IncomingSignal) => void;
  /** Bytes another enabled participant of the room relayed through the server. */
  relay: (frame: IncomingRelay) => void;
  /** A `relay` this client sent was refused and dropped. */
  relay_refused: (refusal: RelayRefusal) => void;
  /** An event without an acknowledgement callback was refused. */
  request_error: (e: { event: string; reason: SignalingErrorReason; message: string }) => void;
}
