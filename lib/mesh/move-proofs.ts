/**
 * Proof, in a moved frame, that its sender holds the relay key its peer knows it by. A participant's name and
 * public relay key are public in the room, so without it a client that joined with both copied could say, on
 * its own channel, that it moved to the id of the participant it copied (found by a review written as a hostile
 * peer). The proof is made from the pair's ECDH secret (see `movedProof`), which only the key's owner and the
 * receiver can compute. A pair where either side has no relay key (paths `'direct'`, or no WebCrypto) has
 * nothing to prove with: its moves are taken on the server's word on the name, as before.
 */
import { movedProof, sameBytes, type RelayKdf, type RelayKeyPair } from '../link/relay-crypto.js';
import type { Logger } from '../logger.js';
import type { Session } from '../session/Session.js';
import { TokenBucket } from '../util/token-bucket.js';

/**
 * Moved frames one session's peer may have checked: a burst, then one every 5 s. Each check is a key
 * agreement (about 0.13 ms in Node); a peer says it moved once per re-join, and again after a move between
 * links. Without a bound a hostile peer's flood of 30-byte frames held the receiver's event loop for seconds
 * (found by a review written as a hostile peer).
 */
export const MOVE_CHECKS_BURST = 4;
/** Moved frames checked per second past {@link MOVE_CHECKS_BURST}: one every 5 s. */
export const MOVE_CHECKS_PER_SECOND = 0.2;

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

/**
 * The moved frames of one session, checked one at a time in the order they came. While one is being
 * checked only the latest to come waits (a peer that re-joined twice is at its last id), and checks beyond
 * {@link MOVE_CHECKS_BURST} pass a token bucket: a frame over it is dropped. `accept` takes a proven move.
 * @internal
 */
export class MoveChecks {
  readonly #bucket = new TokenBucket(MOVE_CHECKS_PER_SECOND, MOVE_CHECKS_BURST, Date.now());
  #checking = false;
  #next: { id: string; proof: Uint8Array | undefined } | undefined;
  #refusals = 0;

  constructor(
    private readonly identity: MoveIdentity | undefined,
    private readonly session: Session,
    private readonly accept: (id: string) => void,
    private readonly logger: Logger,
  ) {}

  /** A moved frame of the peer: to `id`, with `proof`. */
  handle(id: string, proof: Uint8Array | undefined): void {
    if (this.#checking) this.#next = { id, proof };
    else void this.#check(id, proof);
  }

  async #check(id: string, proof: Uint8Array | undefined): Promise<void> {
    // Said again after a move between links: the session has that id already, nothing to check.
    if (id === this.session.participant.id) return;
    if (!this.#bucket.take(Date.now())) {
      this.#refused(id, 'over the rate of moves');
      return;
    }
    this.#checking = true;
    try {
      const check = await checkMove(this.identity, this.session, id, proof);
      if (check === 'proven' || check === 'keyless') this.accept(id);
      else this.#refused(id, `proof ${check}`);
    } catch (err) {
      this.logger.error({ participant: this.session.participant.id, err: String(err) }, 'moved frame not handled');
    } finally {
      this.#checking = false;
      const next = this.#next;
      this.#next = undefined;
      if (next !== undefined) void this.#check(next.id, next.proof);
    }
  }

  /** Logs a refused move: the first of the session as a warning, the rest (a flood) at debug. */
  #refused(id: string, why: string): void {
    const line = { participant: this.session.participant.id, id, why };
    const msg = 'refused a move';
    if (this.#refusals++ === 0) this.logger.warn(line, msg);
    else this.logger.debug(line, msg);
  }
}
