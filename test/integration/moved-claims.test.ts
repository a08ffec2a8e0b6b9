/**
 * A participant may only rename itself. A `moved` frame says its sender re-joined the server under a new id;
 * a peer whose client is modified sends one naming another participant's id. Two real participants (the
 * victim and mallory, on node-datachannel or the relay) and a raw socket.io client standing for the
 * participant whose id mallory claims; mallory's session with the victim is reached through the session
 * class, as a modified client would.
 */
import { expect } from 'chai';
import { nodeRelayKdf } from '../../lib/link/node-relay-kdf.js';
import { movedProof, type RelayKdf, type RelayKeyPair } from '../../lib/link/relay-crypto.js';
import { Room as NodeRoom, silentLogger, type Room } from '../../lib/node.js';
import { SIGNALING_VERSION } from '../../lib/protocol/signaling.js';
import { Session } from '../../lib/session/Session.js';
import { Harness, eventually, nextEvent } from '../support/harness.js';
import { ack, closeRawClients, connect, quiet } from '../support/raw-client.js';

/** `room`'s session with participant `id`, caught as setAttributes() tells every present session. */
function sessionWith(room: Room, id: string): Session {
  const caught: Session[] = [];
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const send = Session.prototype.sendAttributes;
  Session.prototype.sendAttributes = function (this: Session, attributes) {
    caught.push(this);
    send.call(this, attributes);
  };
  try {
    room.localParticipant.setAttributes({ probe: caught.length });
  } finally {
    Session.prototype.sendAttributes = send;
  }
  const session = caught.find((s) => s.participant.id === id);
  if (session === undefined) throw new Error(`no session with ${id}`);
  return session;
}

/**
 * A modified client's Room class: it hands its relay key pair to `own`, and joins with `publicKey` (another
 * participant's, copied from the room) in place of its own public key when that is given. Only the first pair
 * made is the participant's (the room's rehearsal makes another).
 */
function modifiedRoom(own: (pair: RelayKeyPair) => void, publicKey?: string): Pick<typeof NodeRoom, 'connect'> {
  let made = 0;
  const kdf: RelayKdf = {
    ...nodeRelayKdf,
    generateKeyPair: () => {
      const real = nodeRelayKdf.generateKeyPair() as RelayKeyPair;
      if (made++ > 0) return real;
      own(real);
      return { ...real, publicKey: publicKey ?? real.publicKey };
    },
  };
  return class ModifiedRoom extends NodeRoom {
    protected static override relayKdf = kdf;
  };
}

describe('a moved frame cannot take another participant’s id', function () {
  this.timeout(30_000);
  const h = new Harness();
  afterEach(async () => {
    closeRawClients();
    await h.close();
  });

  it('refused when the server lists the id for another participant: the victim keeps mallory as mallory', async () => {
    const server = await h.server();
    const [victim, mallory] = await h.mesh(server, 'claims', ['victim', 'mallory']);
    const renamed: string[] = [];
    victim!.messaging.on('participant_id_changed', (p, previous) => renamed.push(`${previous} -> ${p.id}`));
    // xavier enables messaging; the server tells the victim, which waits for xavier (the newcomer) to dial.
    const xavier = await connect(server.url);
    const joined = await ack(xavier, 'join', { v: SIGNALING_VERSION, room: 'claims', name: 'xavier' });
    const xavierId = (joined.data as { self: { id: string } }).self.id;
    expect((await ack(xavier, 'enable_messaging')).ok).to.equal(true);
    await quiet(300); // the server's word on xavier reaches the victim (loopback)
    sessionWith(mallory!, victim!.localParticipant.id).sendMoved(xavierId);
    await quiet(300);
    expect(renamed).to.deep.equal([]);
    expect(victim!.messaging.getParticipant(mallory!.localParticipant.id)?.name).to.equal('mallory');
    expect(victim!.messaging.getParticipant(xavierId)).to.equal(undefined);
  });

  it('taken back when the server lists the id later: the victim removes the claimant, who was never xavier', async () => {
    const server = await h.server();
    const [victim] = await h.mesh(server, 'claims', ['victim']);
    let malloryKeys: RelayKeyPair | undefined;
    const Modified = modifiedRoom((pair) => (malloryKeys = pair));
    const mallory = await Modified.connect({ url: server.url, room: 'claims', name: 'mallory', logger: silentLogger });
    h.rooms.push(mallory);
    await mallory.messaging.enable();
    // xavier has joined, not enabled: the victim has no word of it when mallory claims its id.
    const xavier = await connect(server.url);
    const joined = await ack(xavier, 'join', { v: SIGNALING_VERSION, room: 'claims', name: 'xavier' });
    const xavierId = (joined.data as { self: { id: string } }).self.id;
    const renamed = nextEvent(victim!.messaging, 'participant_id_changed');
    // A move of mallory's own (its proof is good): what is wrong is the id.
    const session = sessionWith(mallory, victim!.localParticipant.id);
    const key = malloryKeys!.publicKey;
    session.sendMoved(
      xavierId,
      movedProof(malloryKeys!, session.participant.relayKey!, key, session.cid, xavierId, nodeRelayKdf) as Uint8Array,
    );
    const [claimant] = await renamed;
    expect([claimant.id, claimant.name]).to.deep.equal([xavierId, 'mallory']);
    // The server's word: xavier is a participant named xavier, with no relay key.
    const removed = nextEvent(victim!.messaging, 'participant_removed', 5000);
    expect((await ack(xavier, 'enable_messaging')).ok).to.equal(true);
    const [gone] = await removed;
    expect([gone.id, gone.name]).to.deep.equal([xavierId, 'mallory']);
    expect(victim!.messaging.getParticipant(xavierId)).to.equal(undefined);
  });

  it('refused without proof of the relay key: a client with xavier’s name and copied public key stays itself', async () => {
    const server = await h.server();
    const [victim] = await h.mesh(server, 'claims', ['victim']);
    // xavier joins with its own key pair.
    const xavierKeys = nodeRelayKdf.generateKeyPair() as RelayKeyPair;
    const xavier = await connect(server.url);
    const joined = await ack(xavier, 'join', {
      v: SIGNALING_VERSION,
      room: 'claims',
      name: 'xavier',
      relayKey: xavierKeys.publicKey,
    });
    const xavierId = (joined.data as { self: { id: string } }).self.id;
    // mallory joins as "xavier" with xavier's public key (public in the room) and its own private key. Its
    // relayed link to the victim fails (it cannot derive the keys); its direct channel comes up.
    let malloryKeys: RelayKeyPair | undefined;
    const Copying = modifiedRoom((pair) => (malloryKeys = pair), xavierKeys.publicKey);
    const mallory = await Copying.connect({ url: server.url, room: 'claims', name: 'xavier', logger: silentLogger });
    h.rooms.push(mallory);
    await mallory.messaging.enable();
    const malloryId = mallory.localParticipant.id;
    const link = (): string | undefined => victim!.messaging.getParticipant(malloryId)?.linkState;
    await eventually(() => link() === 'direct', 10_000, 'mallory present at the victim over its direct channel');
    // xavier enables messaging: the victim waits for it to dial (it never does).
    expect((await ack(xavier, 'enable_messaging')).ok).to.equal(true);
    await quiet(300);
    const renamed: string[] = [];
    victim!.messaging.on('participant_id_changed', (p, previous) => renamed.push(`${previous} -> ${p.id}`));
    const session = sessionWith(mallory, victim!.localParticipant.id);
    const victimKey = session.participant.relayKey!;
    const proof = (keys: RelayKeyPair): Uint8Array =>
      movedProof(keys, victimKey, xavierKeys.publicKey, session.cid, xavierId, nodeRelayKdf) as Uint8Array;
    // No proof, and the best mallory can make with its own private key: both refused.
    session.sendMoved(xavierId);
    session.sendMoved(xavierId, proof(malloryKeys!));
    await quiet(300);
    expect(renamed).to.deep.equal([]);
    expect(victim!.messaging.getParticipant(malloryId)?.linkState).to.equal('direct');
    expect(victim!.messaging.getParticipant(xavierId)).to.equal(undefined);
    // The proof only xavier's private key makes is taken (the channel is then xavier's, as a re-join would be).
    session.sendMoved(xavierId, proof(xavierKeys));
    await eventually(() => renamed.length === 1, 2000, 'the proven move');
    expect(renamed).to.deep.equal([`${malloryId} -> ${xavierId}`]);
  });
});
