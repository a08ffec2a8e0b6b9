/**
 * A hostile participant on the relayed path, as a raw socket.io client of the room: what it may make an
 * honest participant do is bounded, and it cannot cut an honest relayed pair off by copying a public key.
 */
import { expect } from 'chai';
import { createECDH, randomBytes } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { RELAY_OPENS_BURST } from '../../lib/mesh/Intake.js';
import { PeerLink } from '../../lib/link/PeerLink.js';
import { nodeDataChannelWebRTC, silentLogger } from '../../lib/node.js';
import { encodeRelayOpen } from '../../lib/protocol/relay-frames.js';
import { SIGNALING_VERSION, type SignalData } from '../../lib/protocol/signaling.js';
import { Harness, eventually } from '../support/harness.js';
import { ack, closeRawClients, connect, quiet } from '../support/raw-client.js';

/** A raw client joined to `room` with `relayKey`, messaging enabled. */
async function hostile(url: string, room: string, name: string, relayKey: string): Promise<{ s: Socket; id: string }> {
  const s = await connect(url);
  const j = await ack(s, 'join', { v: SIGNALING_VERSION, room, name, relayKey });
  expect(j.ok, JSON.stringify(j)).to.equal(true);
  expect((await ack(s, 'enable_messaging')).ok).to.equal(true);
  return { s, id: j.data.self.id as string };
}

describe('a hostile participant on the relayed path', function () {
  this.timeout(30_000);
  const h = new Harness();
  afterEach(async () => {
    closeRawClients();
    await h.close();
  });

  it('a flood of relayed opens gets a few answers, not one each: the victim does no work for the rest', async () => {
    const server = await h.server();
    const [victim] = await h.mesh(server, 'flood', ['victim'], { paths: 'relay' });
    const key = createECDH('prime256v1').generateKeys().toString('base64url');
    const mallory = await hostile(server.url, 'flood', 'mallory', key);
    let answers = 0;
    mallory.s.on('relay', () => answers++);
    // Each open is 18-40 bytes, far under the server's relay rate; each would cost the victim a key
    // agreement, a session and a sealed answer.
    const to = victim!.localParticipant.id;
    for (let i = 0; i < 400; i++) mallory.s.emit('relay', { to, data: encodeRelayOpen(randomBytes(16), `c${i}`) });
    await quiet(1500);
    expect(answers, 'answers to 400 opens')
      .to.be.at.least(1)
      .and.at.most(RELAY_OPENS_BURST + 6);
  });

  it('a flood of direct offers gets a few peer connections built, not one each', async () => {
    const server = await h.server();
    // The victim's WebRTC, counting the peer connections it builds.
    const base = nodeDataChannelWebRTC();
    const Base = base.RTCPeerConnection as new (...args: unknown[]) => object;
    let built = 0;
    class Counting extends Base {
      constructor(...args: unknown[]) {
        super(...args);
        built++;
      }
    }
    const [victim] = await h.mesh(server, 'offers', ['victim'], { wrtc: { ...base, RTCPeerConnection: Counting } });
    const mallory = await hostile(
      server.url,
      'offers',
      'mallory',
      createECDH('prime256v1').generateKeys().toString('base64url'),
    );
    // A real offer, sent again under new session ids: each would cost the victim a peer connection and an
    // answer with its candidates (signals counted against its own allowance at the server).
    const dialer = new PeerLink({ initiator: true, wrtc: base, rtcConfig: { iceServers: [] }, logger: silentLogger });
    try {
      const offer = await new Promise<SignalData>((resolve) =>
        dialer.on('signal', (d) => {
          if (d.type === 'offer') resolve(d);
        }),
      );
      const to = victim!.localParticipant.id;
      for (let i = 0; i < 100; i++) mallory.s.emit('signal', { to, cid: `c${i}.1`, data: offer });
      await quiet(1500);
      expect(built, 'peer connections built for 100 offers')
        .to.be.at.least(1)
        .and.at.most(RELAY_OPENS_BURST + 6);
    } finally {
      dialer.close();
    }
  });

  it('a newcomer with an honest peer’s name and public relay key does not take over their relayed pair', async () => {
    const server = await h.server();
    const [bob, victim] = await h.mesh(server, 'copy', ['bob', 'victim'], { paths: 'relay' });
    expect(victim!.messaging.getParticipantByName('bob')!.linkState).to.equal('relayed');
    const states: string[] = [];
    let removed = 0;
    victim!.messaging.on('participant_link_changed', (_p, state) => states.push(state));
    victim!.messaging.on('participant_removed', () => removed++);
    // The key is public in the room: every enable list carries it.
    const spy = await hostile(server.url, 'copy', 'spy', createECDH('prime256v1').generateKeys().toString('base64url'));
    const list = await ack(spy.s, 'enable_messaging');
    const bobKey = (list.data.participants as Array<{ name: string; relayKey: string }>).find(
      (p) => p.name === 'bob',
    )!.relayKey;
    await hostile(server.url, 'copy', 'bob', bobKey);
    await quiet(1500);
    expect(states, 'bob’s link at the victim').to.deep.equal([]);
    expect(removed).to.equal(0);
    await victim!.messaging.sendMessage({ to: bob!.localParticipant.id, type: 'still', message: {} });
    await eventually(() => victim!.messaging.getParticipant(bob!.localParticipant.id) !== undefined, 100, 'bob');
  });
});
