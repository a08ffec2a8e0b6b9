/**
 * `enable_messaging`, `disable_messaging` and `signal`: what a joined participant asks of its room once
 * it is in it. Enabling tells the enabled others, who then connect to it; `signal` relays offers,
 * answers and candidates between two enabled participants of the same room.
 */
import { checkOutgoingSignal } from '../lib/protocol/signaling-checks.js';
import type { HandlerContext, Member, ServerSocket } from './connection.js';
import { countSignal } from './metrics.js';
import { RequestError, type RequestHandlers } from './request-pipeline.js';

/** The messaging handlers of connection `socket`. */
export function messagingHandlers(
  ctx: HandlerContext,
  socket: ServerSocket,
): Pick<RequestHandlers, 'enable_messaging' | 'disable_messaging' | 'signal'> {
  const { opts, logger, store, tell, fromStore } = ctx;
  const state = socket.data;

  const joined = (): Member => {
    if (state.member === undefined) throw new RequestError('NotJoined', 'join a room first');
    return state.member;
  };
  /** Enabling and disabling are told to the whole room: a token bucket per connection bounds that fan-out. */
  const takeToggle = (): void => {
    if (state.toggles !== undefined && !state.toggles.take(Date.now())) {
      throw new RequestError(
        'ToggleRateLimited',
        `more than ${opts.togglesPerSecond} enable/disable requests per second (burst ${opts.toggleBurst}) on this connection`,
      );
    }
  };

  return {
    enable_messaging: async () => {
      const member = joined();
      takeToggle();
      const r = await fromStore(() => store.enable(member.room, member.info.id));
      if (r === undefined) throw new RequestError('NotJoined', 'this participant is no longer in its room');
      member.enabled = true;
      if (r.changed) {
        // Peers hear of the newcomer before the newcomer hears of them, so its offers never arrive first
        // (across a fleet too: both go through the same ordered stream).
        tell(
          member.room,
          r.peers.map((p) => p.id),
          (to) => to.emit('peer_enabled', member.info),
        );
        logger.info({ room: member.room, participant: member.info.id, peers: r.peers.length }, 'messaging enabled');
      }
      return { participants: r.peers };
    },

    disable_messaging: async () => {
      const member = joined();
      takeToggle();
      const r = await fromStore(() => store.disable(member.room, member.info.id));
      member.enabled = false;
      if (r.changed) {
        tell(member.room, r.peers, (to) => to.emit('peer_disabled', { id: member.info.id }));
        logger.info({ room: member.room, participant: member.info.id }, 'messaging disabled');
      }
      return {};
    },

    signal: async ([raw]) => {
      const member = joined();
      if (!member.enabled) throw new RequestError('NotEnabled', 'enable messaging before signaling');
      if (state.signals !== undefined && !state.signals.take(Date.now())) {
        throw new RequestError(
          'SignalRateLimited',
          `more than ${opts.signalsPerSecond} signals per second (burst ${opts.signalBurst}) on this connection`,
        );
      }
      const checked = checkOutgoingSignal(raw);
      if (!checked.ok) throw new RequestError('BadRequest', checked.message);
      const { to, cid, data } = checked.value;
      if (to === member.info.id) throw new RequestError('UnknownParticipant', 'no such participant in this room');
      const target = await fromStore(() => store.get(member.room, to));
      if (target === undefined) throw new RequestError('UnknownParticipant', 'no such participant in this room');
      if (!target.enabled) throw new RequestError('PeerNotEnabled', 'that participant does not have messaging enabled');
      // The sender is stamped here; whatever the client claimed is not relayed.
      tell(member.room, [to], (t) => t.emit('signal', { from: member.info.id, cid, data }));
      countSignal(ctx.metrics, data);
      logger.debug({ room: member.room, from: member.info.id, to, kind: data.type }, 'signal relayed');
      return {};
    },
  };
}
