/** The moved frames of one session: checked one at a time, the latest waiting, a flood bounded. */
import { expect } from 'chai';
import { nodeRelayKdf } from '../../lib/link/node-relay-kdf.js';
import { movedProof, type RelayKdf, type RelayKeyPair } from '../../lib/link/relay-crypto.js';
import { silentLogger } from '../../lib/logger.js';
import { MOVE_CHECKS_BURST, MoveChecks } from '../../lib/mesh/move-proofs.js';
import type { Session } from '../../lib/session/Session.js';

/** A receiver's checks of a peer's moves, counting its key agreements; what it accepted. */
function receiver(): {
  checks: MoveChecks;
  agreements: () => number;
  accepted: string[];
  proof: (id: string) => Uint8Array;
} {
  const own = nodeRelayKdf.generateKeyPair() as RelayKeyPair;
  const peer = nodeRelayKdf.generateKeyPair() as RelayKeyPair;
  let agreements = 0;
  const kdf: RelayKdf = {
    ...nodeRelayKdf,
    sharedSecret: (keys, raw) => {
      agreements++;
      return nodeRelayKdf.sharedSecret(keys, raw);
    },
  };
  const session = {
    cid: 'c1',
    participant: { id: 'p1', name: 'peer', relayKey: peer.publicKey },
  } as unknown as Session;
  const accepted: string[] = [];
  const checks = new MoveChecks({ keys: own, kdf }, session, (id) => accepted.push(id), silentLogger);
  const proof = (id: string): Uint8Array =>
    movedProof(peer, own.publicKey, peer.publicKey, 'c1', id, nodeRelayKdf) as Uint8Array;
  return { checks, agreements: () => agreements, accepted, proof };
}

const settled = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

describe('mesh/MoveChecks', () => {
  it('takes a proven move, refuses one without proof or with another’s', async () => {
    const r = receiver();
    r.checks.handle('x', undefined);
    await settled();
    r.checks.handle('x', new Uint8Array(16));
    await settled();
    r.checks.handle('y', r.proof('x'));
    await settled();
    expect(r.accepted).to.deep.equal([]);
    r.checks.handle('x', r.proof('x'));
    await settled();
    expect(r.accepted).to.deep.equal(['x']);
  });

  it('a flood of moved frames costs two key agreements, and the latest one is the one taken', async () => {
    const r = receiver();
    for (let i = 0; i < 10_000; i++) r.checks.handle(`id${i}`, new Uint8Array(16));
    r.checks.handle('last', r.proof('last'));
    await settled();
    expect(r.agreements()).to.equal(2); // the first frame's check, then the latest that waited
    expect(r.accepted).to.deep.equal(['last']);
  });

  it('the id the session has already (a moved frame said again after a move between links) costs nothing', async () => {
    const r = receiver();
    for (let i = 0; i < 100; i++) r.checks.handle('p1', r.proof('p1'));
    await settled();
    expect([r.agreements(), r.accepted.length]).to.deep.equal([0, 0]);
    r.checks.handle('x', r.proof('x'));
    await settled();
    expect(r.accepted).to.deep.equal(['x']);
  });

  it(`frames one at a time: ${MOVE_CHECKS_BURST} checked at once, the rest dropped until the bucket refills`, async () => {
    const r = receiver();
    for (let i = 0; i < 100; i++) {
      r.checks.handle(`id${i}`, new Uint8Array(16));
      await settled();
    }
    expect(r.agreements()).to.equal(MOVE_CHECKS_BURST);
    r.checks.handle('x', r.proof('x'));
    await settled();
    expect(r.accepted, 'a proven move over the rate is dropped too').to.deep.equal([]);
  });
});
