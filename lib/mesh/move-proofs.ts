/**
 * Proof, in a moved frame, that its sender holds the relay key its peer knows it by. A participant's name and
 * public relay key are public in the room, so without it a client that joined with both copied could say, on
 * its own channel, that it moved to the id of the participant it copied (found by a review written as a hostile
 * peer). The proof is made from the pair's ECDH secret (see `movedProof`), which only the key's owner and the
 * receiver can compute. A pair where either side has no relay key (paths `'direct'`, or no WebCrypto) has
 * nothing to prove with: its moves are taken on the server's word on the name, as before.
 */
import { movedProof, sameBytes, type RelayKdf, type RelayKeyPair } from '../link/relay-crypto.js';
import type { Session } from '../session/Session.js';

/** This participant's relay key pair and what derives from it: what proves its moves and checks its peers'. @internal */
export interface MoveIdentity {
  readonly keys: RelayKeyPair;
  readonly kdf: RelayKdf;
}

/** What checking a peer's moved frame found. @internal */
export type MoveCheck = 'proven' | 'keyless' | 'missing' | 'bad';

/**
 * The proof for `session`'s peer that this side, now participant `id`, holds its relay key; undefined when
 * this side or the peer has no relay key (or the peer's is not a P-256 point: then it cannot check one).
 * @internal
 */
export async function proveMove(
  identity: MoveIdentity | undefined,
  session: Session,
  id: string,
): Promise<Uint8Array | undefined> {
  const peerKey = session.participant.relayKey;
  if (identity === undefined || peerKey === undefined) return undefined;
  try {
    return await movedProof(identity.keys, peerKey, identity.keys.publicKey, session.cid, id, identity.kdf);
  } catch {
    return undefined;
  }
}

/**
 * Checks the proof of `session`'s peer, which says it moved to `id`: `proven`, `keyless` (this side or the
 * peer has no relay key: nothing to check), `missing` or `bad`. @internal
 */
export async function checkMove(
  identity: MoveIdentity | undefined,
  session: Session,
  id: string,
  proof: Uint8Array | undefined,
): Promise<MoveCheck> {
  const peerKey = session.participant.relayKey;
  if (identity === undefined || peerKey === undefined) return 'keyless';
  if (proof === undefined) return 'missing';
  try {
    const expected = await movedProof(identity.keys, peerKey, peerKey, session.cid, id, identity.kdf);
    return sameBytes(expected, proof) ? 'proven' : 'bad';
  } catch {
    return 'bad';
  }
}
