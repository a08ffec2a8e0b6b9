/** The checks of the relay events: a `relay` both ways, a `relay_refused`, and the relay terms of a reply. */
import type { IncomingRelay, OutgoingRelay, RelayRefusal, RelayTerms, SignalingErrorReason } from './signaling.js';
import { MAX_RELAY_FRAME_BYTES, MIN_RELAY_FRAME_BYTES } from './signaling.js';
import { type Checked, isBytes, isName, isRecord } from './signaling-guards.js';

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
  if (!isRecord(v) || !n(v.maxFrameBytes) || !n(v.bytesPerSecond) || !n(v.burstBytes)) {
    return { ok: false, message: 'relay: expected { maxFrameBytes, bytesPerSecond, burstBytes }' };
  }
  if (v.maxFrameBytes < MIN_RELAY_FRAME_BYTES)
    return { ok: false, message: `relay: maxFrameBytes ${v.maxFrameBytes} is below ${MIN_RELAY_FRAME_BYTES}` };
  const maxFrameBytes = Math.min(v.maxFrameBytes, MAX_RELAY_FRAME_BYTES);
  const terms: RelayTerms = { maxFrameBytes, bytesPerSecond: v.bytesPerSecond, burstBytes: v.burstBytes };
  if (v.frameCostBytes !== undefined) {
    if (!n(v.frameCostBytes) || v.frameCostBytes > MAX_RELAY_FRAME_BYTES)
      return { ok: false, message: `relay: frameCostBytes must be an integer from 0 to ${MAX_RELAY_FRAME_BYTES}` };
    terms.frameCostBytes = v.frameCostBytes;
  }
  return { ok: true, value: terms };
}
