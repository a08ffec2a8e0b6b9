/**
 * One participant's relay-only messaging stack over the rehearsal's in-memory signaling (lib/rehearsal.ts),
 * for unit tests of the messaging layer: pair two with `LoopSignaling.pair`, and their relayed frames pass
 * through memory, sealed as on the wire.
 */
import type { RoomTimeouts } from '../../lib/defaults.js';
import { nodeRelayAead } from '../../lib/link/node-relay-aead.js';
import { nodeRelayKdf } from '../../lib/link/node-relay-kdf.js';
import { loopStack } from '../../lib/rehearsal.js';

/** A messaging stack for participant `id` (its name too), with a fresh relay key pair. */
export async function loopSide(
  id: string,
  timeouts?: RoomTimeouts,
  limits?: Parameters<typeof loopStack>[5],
): Promise<ReturnType<typeof loopStack>> {
  const keys = await nodeRelayKdf.generateKeyPair();
  const info = { id, name: id, joinedAtMs: 0, relayKey: keys.publicKey };
  return loopStack(info, keys, nodeRelayAead, nodeRelayKdf, timeouts, limits);
}
