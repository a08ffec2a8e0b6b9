/**
 * The checks of the signaling requests and what the server says of participants: `join`, `resume`,
 * `signal` both ways, and a participant's description. Each never throws and keeps only the known fields.
 */
import type {
  CandidateInit,
  IncomingSignal,
  JoinRequest,
  OutgoingSignal,
  ParticipantInfo,
  ResumeRequest,
  SignalData,
} from './signaling.js';
import {
  MAX_CANDIDATE_LENGTH,
  MAX_CID_LENGTH,
  MAX_NAME_LENGTH,
  MAX_RELAY_KEY_LENGTH,
  MAX_RESUME_TOKEN_LENGTH,
  MAX_SDP_LENGTH,
} from './signaling.js';
import { type Checked, isName, isRecord, isRelayKey } from './signaling-guards.js';

/** Validates a `join` request. */
export function checkJoinRequest(v: unknown): Checked<JoinRequest> {
  if (!isRecord(v)) return { ok: false, message: 'join: expected an object' };
  if (typeof v.v !== 'number') return { ok: false, message: 'join: v (protocol version) must be a number' };
  if (!isName(v.room))
    return {
      ok: false,
      message: `join: room must be a non-empty string of at most ${MAX_NAME_LENGTH} UTF-16 code units, well-formed Unicode`,
    };
  // Reserved: "*" meant "every room" in tokens before the allRooms claim, and an app's own room checks may
  // still read it so; a room of that name would be mistaken for the wildcard.
  if (v.room === '*') return { ok: false, message: 'join: "*" is not a room name' };
  if (!isName(v.name))
    return {
      ok: false,
      message: `join: name must be a non-empty string of at most ${MAX_NAME_LENGTH} UTF-16 code units, well-formed Unicode`,
    };
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
