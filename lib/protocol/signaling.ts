/**
 * Signaling events between a client and the signaling server, declared once and used by both:
 * the server is a `Server<ClientToServerEvents, ServerToClientEvents>`, the client a
 * `Socket<ServerToClientEvents, ClientToServerEvents>`. docs/PROTOCOL.md describes each event.
 *
 * The validators below are what the server runs on every event it receives; they never throw.
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

/** Longest connection id (chosen by the initiator to tell attempts apart). */
export const MAX_CID_LENGTH = 64;

/**
 * Longest `relayKey` accepted: base64url of a P-256 public key in raw (uncompressed) form is 87 characters;
 * the limit leaves room for a future key kind and no more.
 */
export const MAX_RELAY_KEY_LENGTH = 128;

/** Largest relayed frame any server accepts, whatever its options say (the `relay` event's `data`). */
export const MAX_RELAY_FRAME_BYTES = 256 * 1024;

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

/** Events a client sends. Every one but `relay` takes an acknowledgement callback; the server answers each with a {@link Reply}. */
export interface ClientToServerEvents {
  join: (req: JoinRequest, ack: (reply: Reply<JoinReply>) => void) => void;
  resume: (req: ResumeRequest, ack: (reply: Reply<ResumeReply>) => void) => void;
  enable_messaging: (ack: (reply: Reply<{ participants: ParticipantInfo[] }>) => void) => void;
  disable_messaging: (ack: (reply: Reply<Record<string, never>>) => void) => void;
  signal: (signal: OutgoingSignal, ack: (reply: Reply<Record<string, never>>) => void) => void;
  /**
   * Bytes for another enabled participant of the room, relayed by the server. No acknowledgement (one per
   * frame would double the messages): a refusal comes back as `relay_refused`.
   */
  relay: (frame: OutgoingRelay) => void;
}

/** Events the server sends. */
export interface ServerToClientEvents {
  /** Another participant of the room enabled messaging; it will send this client an offer. */
  peer_enabled: (p: ParticipantInfo) => void;
  /** Another participant disabled messaging or left the room. */
  peer_disabled: (p: { id: string }) => void;
  /**
   * Another enabled participant's connection to the server dropped without a goodbye; it may resume
   * shortly, or it may be gone. Its data channel, if it still works, says which.
   */
  peer_disconnected: (p: { id: string }) => void;
  signal: (signal: IncomingSignal) => void;
  /** Bytes another enabled participant of the room relayed through the server. */
  relay: (frame: IncomingRelay) => void;
  /** A `relay` this client sent was refused and dropped. */
  relay_refused: (refusal: RelayRefusal) => void;
  /** An event without an acknowledgement callback was refused. */
  request_error: (e: { event: string; reason: SignalingErrorReason; message: string }) => void;
}

/** A validation result: the typed value, or a sentence for the client. */
export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isRelayKey(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_RELAY_KEY_LENGTH && /^[A-Za-z0-9_-]+$/.test(v);
}

function isName(v: unknown): v is string {
  return typeof v === 'string' && v.trim().length > 0 && v.length <= MAX_NAME_LENGTH;
}

/** Validates a `join` request. */
export function checkJoinRequest(v: unknown): Checked<JoinRequest> {
  if (!isRecord(v)) return { ok: false, message: 'join: expected an object' };
  if (typeof v.v !== 'number') return { ok: false, message: 'join: v (protocol version) must be a number' };
  if (!isName(v.room))
    return { ok: false, message: `join: room must be a non-empty string of at most ${MAX_NAME_LENGTH} characters` };
  // Reserved: "*" meant "every room" in tokens before the allRooms claim, and an app's own room checks may
  // still read it so; a room of that name would be mistaken for the wildcard.
  if (v.room === '*') return { ok: false, message: 'join: "*" is not a room name' };
  if (!isName(v.name))
    return { ok: false, message: `join: name must be a non-empty string of at most ${MAX_NAME_LENGTH} characters` };
  if (v.token !== undefined && (typeof v.token !== 'string' || v.token.length > 8192)) {
    return { ok: false, message: 'join: token must be a string of at most 8192 characters' };
  }
  if (v.relayKey !== undefined && !isRelayKey(v.relayKey)) {
    return {
      ok: false,
      message: `join: relayKey must be a non-empty base64url string of at most ${MAX_RELAY_KEY_LENGTH} characters`,
    };
  }
  const req: JoinRequest = { v: v.v, room: v.room, name: v.name };
  if (typeof v.token === 'string') req.token = v.token;
  if (typeof v.relayKey === 'string') req.relayKey = v.relayKey;
  return { ok: true, value: req };
}

/** Validates a `resume` request. */
export function checkResumeRequest(v: unknown): Checked<ResumeRequest> {
  if (!isRecord(v)) return { ok: false, message: 'resume: expected an object' };
  if (typeof v.v !== 'number') return { ok: false, message: 'resume: v (protocol version) must be a number' };
  if (typeof v.token !== 'string' || v.token.length === 0 || v.token.length > MAX_RESUME_TOKEN_LENGTH) {
    return {
      ok: false,
      message: `resume: token must be a non-empty string of at most ${MAX_RESUME_TOKEN_LENGTH} characters`,
    };
  }
  if (typeof v.messagingEnabled !== 'boolean')
    return { ok: false, message: 'resume: messagingEnabled must be a boolean' };
  if (v.relayKey !== undefined && !isRelayKey(v.relayKey)) {
    return {
      ok: false,
      message: `resume: relayKey must be a non-empty base64url string of at most ${MAX_RELAY_KEY_LENGTH} characters`,
    };
  }
  const req: ResumeRequest = { v: v.v, token: v.token, messagingEnabled: v.messagingEnabled };
  if (typeof v.relayKey === 'string') req.relayKey = v.relayKey;
  return { ok: true, value: req };
}

function checkSignalData(v: unknown): Checked<SignalData> {
  if (!isRecord(v)) return { ok: false, message: 'signal: data must be an object' };
  if (v.type === 'offer' || v.type === 'answer') {
    if (typeof v.sdp !== 'string' || v.sdp.length === 0 || v.sdp.length > MAX_SDP_LENGTH) {
      return { ok: false, message: `signal: sdp must be a non-empty string of at most ${MAX_SDP_LENGTH} characters` };
    }
    return { ok: true, value: { type: v.type, sdp: v.sdp } };
  }
  if (v.type === 'candidate') {
    const c = v.candidate;
    if (!isRecord(c) || typeof c.candidate !== 'string' || c.candidate.length > MAX_CANDIDATE_LENGTH) {
      return { ok: false, message: 'signal: candidate must be an object with a candidate string' };
    }
    const candidate: CandidateInit = { candidate: c.candidate };
    if (typeof c.sdpMid === 'string' && c.sdpMid.length <= MAX_NAME_LENGTH) candidate.sdpMid = c.sdpMid;
    if (
      typeof c.sdpMLineIndex === 'number' &&
      Number.isInteger(c.sdpMLineIndex) &&
      c.sdpMLineIndex >= 0 &&
      c.sdpMLineIndex < 1024
    ) {
      candidate.sdpMLineIndex = c.sdpMLineIndex;
    }
    if (typeof c.usernameFragment === 'string' && c.usernameFragment.length <= 256)
      candidate.usernameFragment = c.usernameFragment;
    return { ok: true, value: { type: 'candidate', candidate } };
  }
  return { ok: false, message: 'signal: data.type must be offer, answer or candidate' };
}

/** Validates a `signal` from a client. The result holds only the known fields, so nothing else is relayed. */
export function checkOutgoingSignal(v: unknown): Checked<OutgoingSignal> {
  if (!isRecord(v)) return { ok: false, message: 'signal: expected an object' };
  if (!isName(v.to)) return { ok: false, message: 'signal: to must be a participant id' };
  if (typeof v.cid !== 'string' || v.cid.length === 0 || v.cid.length > MAX_CID_LENGTH) {
    return { ok: false, message: `signal: cid must be a non-empty string of at most ${MAX_CID_LENGTH} characters` };
  }
  const data = checkSignalData(v.data);
  if (!data.ok) return data;
  return { ok: true, value: { to: v.to, cid: v.cid, data: data.value } };
}

/** Validates a `signal` as delivered by the server (the client checks what it receives too). */
export function checkIncomingSignal(v: unknown): Checked<IncomingSignal> {
  if (!isRecord(v) || !isName(v.from)) return { ok: false, message: 'signal: from must be a participant id' };
  const out = checkOutgoingSignal({ to: v.from, cid: v.cid, data: v.data });
  if (!out.ok) return out;
  return { ok: true, value: { from: v.from, cid: out.value.cid, data: out.value.data } };
}

/** Validates a participant description from the server. */
export function checkParticipantInfo(v: unknown): Checked<ParticipantInfo> {
  if (!isRecord(v) || !isName(v.id) || !isName(v.name) || typeof v.joinedAtMs !== 'number') {
    return { ok: false, message: 'participant: expected { id, name, joinedAtMs }' };
  }
  if (v.relayKey !== undefined && !isRelayKey(v.relayKey)) {
    return { ok: false, message: 'participant: relayKey must be a base64url string' };
  }
  const info: ParticipantInfo = { id: v.id, name: v.name, joinedAtMs: v.joinedAtMs };
  if (typeof v.relayKey === 'string') info.relayKey = v.relayKey;
  return { ok: true, value: info };
}

function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array;
}

/** Validates a `relay` from a client against the server's largest frame. Never throws. */
export function checkOutgoingRelay(v: unknown, maxFrameBytes: number): Checked<OutgoingRelay> {
  if (!isRecord(v)) return { ok: false, message: 'relay: expected an object' };
  if (!isName(v.to)) return { ok: false, message: 'relay: to must be a participant id' };
  if (!isBytes(v.data) || v.data.byteLength === 0) return { ok: false, message: 'relay: data must be bytes' };
  if (v.data.byteLength > maxFrameBytes) {
    return {
      ok: false,
      message: `relay: data is ${v.data.byteLength} bytes; the largest accepted is ${maxFrameBytes}`,
    };
  }
  return { ok: true, value: { to: v.to, data: v.data } };
}

/** Validates a `relay` as delivered by the server. In browsers socket.io hands binary as an ArrayBuffer. */
export function checkIncomingRelay(v: unknown): Checked<IncomingRelay> {
  if (!isRecord(v) || !isName(v.from)) return { ok: false, message: 'relay: from must be a participant id' };
  const d = v.data;
  const data = d instanceof ArrayBuffer ? new Uint8Array(d) : isBytes(d) ? d : undefined;
  if (data === undefined || data.byteLength === 0 || data.byteLength > MAX_RELAY_FRAME_BYTES) {
    return { ok: false, message: 'relay: data must be bytes' };
  }
  return { ok: true, value: { from: v.from, data } };
}

/** Validates a `relay_refused` from the server. */
export function checkRelayRefusal(v: unknown): Checked<RelayRefusal> {
  if (!isRecord(v) || !isName(v.to) || typeof v.reason !== 'string' || typeof v.message !== 'string') {
    return { ok: false, message: 'relay_refused: expected { to, reason, message }' };
  }
  return {
    ok: true,
    value: { to: v.to, reason: v.reason as SignalingErrorReason, message: v.message.slice(0, 1024) },
  };
}

/** Validates the relay terms of a join or resume reply. */
export function checkRelayTerms(v: unknown): Checked<RelayTerms> {
  const n = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0;
  if (!isRecord(v) || !n(v.maxFrameBytes) || !n(v.bytesPerSecond) || !n(v.burstBytes) || v.maxFrameBytes < 256) {
    return { ok: false, message: 'relay: expected { maxFrameBytes, bytesPerSecond, burstBytes }' };
  }
  const maxFrameBytes = Math.min(v.maxFrameBytes, MAX_RELAY_FRAME_BYTES);
  return { ok: true, value: { maxFrameBytes, bytesPerSecond: v.bytesPerSecond, burstBytes: v.burstBytes } };
}
