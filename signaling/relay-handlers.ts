/**
 * `relay`: opaque bytes from one enabled participant to another of the same room, for pairs that cannot
 * reach each other directly. The bytes are sealed end to end by the clients (lib/link/relay-crypto.ts);
 * the server only checks who may relay to whom, stamps the sender, and bounds what it costs: a frame
 * size limit, a byte bucket per connection, and a byte budget for the whole process. A refused frame is
 * dropped and answered with `relay_refused` (no acknowledgement per frame: it would double the messages).
 * Across a fleet the frame reaches a receiver on another process through the adapter, as signals do; one on
 * this process gets it here, past the adapter: the Redis streams adapter writes every send it carries into
 * the fleet's Redis stream (base64, kept until the stream's length cap, `redisStreamMaxLen`, trims it: at
 * its default of 10,000 entries up to ~860 MB of relayed 63 KiB frames), and every process reads and decodes
 * each one.
 */
import { RELAY_FRAME_COST_BYTES, type SignalingErrorReason } from '../lib/protocol/signaling.js';
import { checkOutgoingRelay } from '../lib/protocol/signaling-relay-checks.js';
import type { HandlerContext, ServerSocket } from './connection.js';
import { RequestError, type RequestHandlers } from './request-pipeline.js';

/** The relay handler of connection `socket`. */
export function relayHandlers(ctx: HandlerContext, socket: ServerSocket): Pick<RequestHandlers, 'relay'> {
  const { opts, store, tell, tellHere, fromStore, metrics, relayBudget } = ctx;
  const state = socket.data;

  const refuse = (to: string, reason: SignalingErrorReason, message: string): void => {
    metrics.relayRefusals.inc({ reason });
    metrics.rejections.inc({ reason });
    socket.emit('relay_refused', { to, reason, message });
  };

  const relay = async (raw: unknown): Promise<void> => {
    const rawTo = typeof raw === 'object' && raw !== null ? (raw as { to?: unknown }).to : undefined;
    const to = typeof rawTo === 'string' ? rawTo.slice(0, 128) : '';
    const member = state.member;
    if (member === undefined) throw new RequestError('NotJoined', 'join a room first');
    if (!opts.relay) return refuse(to, 'RelayDisabled', 'this server does not relay');
    if (!member.enabled) return refuse(to, 'NotEnabled', 'enable messaging before relaying');
    const checked = checkOutgoingRelay(raw, opts.maxRelayFrameBytes);
    if (!checked.ok) {
      const tooLarge = checked.message.includes('largest accepted');
      return refuse(to, tooLarge ? 'PayloadTooLarge' : 'BadRequest', checked.message);
    }
    const { data } = checked.value;
    if (checked.value.to === member.info.id)
      return refuse(to, 'UnknownParticipant', 'a participant cannot relay to itself');
    const nowMs = Date.now();
    // Each frame counts its cost beyond its data (see RELAY_FRAME_COST_BYTES), as clients pace it.
    const cost = data.byteLength + RELAY_FRAME_COST_BYTES;
    if (state.relayBytes !== undefined && !state.relayBytes.take(nowMs, cost)) {
      return refuse(
        to,
        'RelayRateLimited',
        `more than ${opts.relayBytesPerSecond} relayed bytes per second (burst ${opts.relayBurstBytes}; each frame counts ${RELAY_FRAME_COST_BYTES} bytes more than its data) on this connection`,
      );
    }
    const target = await fromStore(() => store.get(member.room, to));
    if (target === undefined) return refuse(to, 'UnknownParticipant', 'no such participant in this room');
    if (!target.enabled) return refuse(to, 'PeerNotEnabled', 'that participant does not have messaging enabled');
    if (target.info.relayKey === undefined) return refuse(to, 'NoRelayKey', 'that participant gave no relay key');
    // Taken last, so that refused frames do not spend the process's budget.
    if (relayBudget !== undefined && !relayBudget.take(nowMs, cost)) {
      return refuse(to, 'RelayBudgetExceeded', 'the server relays as much as its budget allows; try again later');
    }
    // The sender is stamped here; whatever the client claimed is not relayed.
    (target.here ? tellHere : tell)(member.room, [to], (t) => t.emit('relay', { from: member.info.id, data }));
    metrics.relayedBytes.inc(data.byteLength);
    metrics.relayedFrames.inc();
  };

  return {
    relay: async ([raw]) => {
      await relay(raw);
      return undefined as never;
    },
  };
}
