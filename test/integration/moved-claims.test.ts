/**
 * A participant may only rename itself. A `moved` frame says its sender re-joined the server under a new id;
 * a peer whose client is modified sends one naming another participant's id. Two real participants (the
 * victim and mallory, on node-datachannel or the relay) and a raw socket.io client standing for the
 * participant whose id mallory claims; mallory's session with the victim is reached through the session
 * class, as a modified client would.
 */
import { expect } from 'chai';
import type { Room } from '../../lib/node.js';
import { SIGNALING_VERSION } from '../../lib/protocol/signaling.js';
import { Session } from '../../lib/session/Session.js';
import { Harness, nextEvent } from '../support/harness.js';
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
    const [victim, mallory] = await h.mesh(server, 'claims', ['victim', 'mallory']);
    // xavier has joined, not enabled: the victim has no word of it when mallory claims its id.
    const xavier = await connect(server.url);
    const joined = await ack(xavier, 'join', { v: SIGNALING_VERSION, room: 'claims', name: 'xavier' });
    const xavierId = (joined.data as { self: { id: string } }).self.id;
    const renamed = nextEvent(victim!.messaging, 'participant_id_changed');
    sessionWith(mallory!, victim!.localParticipant.id).sendMoved(xavierId);
    const [claimant] = await renamed;
    expect([claimant.id, claimant.name]).to.deep.equal([xavierId, 'mallory']);
    // The server's word: xavier is a participant named xavier, with no relay key.
    const removed = nextEvent(victim!.messaging, 'participant_removed', 5000);
    expect((await ack(xavier, 'enable_messaging')).ok).to.equal(true);
    const [gone] = await removed;
    expect([gone.id, gone.name]).to.deep.equal([xavierId, 'mallory']);
    expect(victim!.messaging.getParticipant(xavierId)).to.equal(undefined);
  });
});
