/**
 * The mesh without WebRTC or a server: who dials whom, what happens after failed connects, and when
 * open() settles. Links are in-memory pairs that "connect" when the offer and answer have crossed, or
 * fail as a WebRTC connect fails, as often as a test says.
 */
import { expect } from 'chai';
import { DEFAULT_TIMEOUTS, type RoomTimeouts } from '../../lib/defaults.js';
import { type Logger, silentLogger } from '../../lib/logger.js';
import { Mesh } from '../../lib/mesh/Mesh.js';
import { MAX_ROOM_PARTICIPANTS, type ParticipantInfo, type SignalData } from '../../lib/protocol/signaling.js';
import { AttachmentBudget } from '../../lib/session/Inbox.js';
import { eventually } from '../support/harness.js';
import { MemoryLink } from '../support/memory-link.js';

/** A stand-in for WebRTC: offers and answers cross through the mesh's signaling, then the pair opens. */
class SimNet {
  /** Connects that fail (both sides close) before the next one succeeds. */
  failNext = 0;
  readonly #offers = new Map<string, MemoryLink>();
  #n = 0;
  /** Every link made, with who made it and whether it dialed. */
  readonly made: Array<{ by: string; initiator: boolean; atMs: number }> = [];

  link(by: string, initiator: boolean): MemoryLink {
    const link = new MemoryLink();
    this.made.push({ by, initiator, atMs: Date.now() });
    if (initiator) {
      const sdp = `sim-${++this.#n}`;
      this.#offers.set(sdp, link);
      setImmediate(() => link.emitSignal({ type: 'offer', sdp }));
    }
    link.signal = (data: SignalData): void => {
      if (data.type === 'offer') {
        const dialer = this.#offers.get(data.sdp);
        if (dialer === undefined) return;
        this.#offers.delete(data.sdp);
        dialer.peer = link;
        link.peer = dialer;
        setImmediate(() => link.emitSignal({ type: 'answer', sdp: data.sdp }));
      } else if (data.type === 'answer' && link.peer !== undefined) {
        if (this.failNext > 0) {
          this.failNext--;
          link.close('ICE failed');
          return;
        }
        link.open();
        link.peer.open();
      }
    };
    return link;
  }
}

/** A stand-in for the signaling server: who has messaging enabled, and signals between meshes. */
class SimServer {
  /** When above 0, peers hear that a newcomer enabled messaging this late (its signals are not delayed). */
  wordDelayMs = 0;
  readonly meshes = new Map<string, Mesh>();
  readonly enabled = new Map<string, ParticipantInfo>();
  readonly net = new SimNet();

  mesh(id: string, timeouts: Partial<RoomTimeouts> = {}, logger: Logger = silentLogger): Mesh {
    const info: ParticipantInfo = { id, name: id, joinedAtMs: 0 };
    const all = { ...DEFAULT_TIMEOUTS, ...timeouts };
    const mesh = new Mesh({
      localId: id,
      timeouts: all,
      logger,
      policy: 'direct',
      createDirect: (initiator) => this.net.link(id, initiator),
      createRelay: () => undefined,
      signaling: {
        enableMessaging: () => {
          // Peers hear of the newcomer before the newcomer hears of them, as from the real server.
          for (const other of this.enabled.keys()) {
            const tell = (): void => this.meshes.get(other)?.handlePeerEnabled(info);
            if (this.wordDelayMs > 0) setTimeout(tell, this.wordDelayMs);
            else tell();
          }
          const before = [...this.enabled.values()];
          this.enabled.set(id, info);
          return Promise.resolve(before);
        },
        disableMessaging: () => {
          this.enabled.delete(id);
          for (const other of this.enabled.keys()) this.meshes.get(other)?.handlePeerDisabled(id);
          return Promise.resolve();
        },
        sendSignal: (to, cid, data) => setImmediate(() => this.meshes.get(to)?.handleSignal({ from: id, cid, data })),
      },
      session: {
        timeouts: all,
        maxAttachmentBytes: 1 << 20,
        attachmentBudget: new AttachmentBudget(1 << 30),
        receiveRate: { bytesPerSecond: 1 << 30, burstBytes: 1 << 30 },
        decodeBudget: { msPerSecond: 1000, burstMs: 1000 },
        localAttributes: () => ({}),
        logger: silentLogger,
      },
    });
    this.meshes.set(id, mesh);
    return mesh;
  }

  /** Ids each mesh has up, by mesh. */
  up(): Map<string, Set<string>> {
    return this.#up;
  }

  readonly #up = new Map<string, Set<string>>();

  track(id: string, mesh: Mesh): void {
    const set = new Set<string>();
    this.#up.set(id, set);
    mesh.on('participant_up', (s) => set.add(s.participant.id));
    mesh.on('participant_down', (s) => set.delete(s.participant.id));
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.meshes.values()].map((m) => m.close()));
  }
}

describe('Mesh: who dials whom, and after failures', () => {
  let server: SimServer;
  beforeEach(() => {
    server = new SimServer();
  });
  afterEach(async () => {
    await server.closeAll();
  });

  function start(id: string, timeouts?: Partial<RoomTimeouts>): Mesh {
    const mesh = server.mesh(id, timeouts);
    server.track(id, mesh);
    return mesh;
  }

  it('an offer that overtakes the word that its sender enabled messaging is held, not dropped (a fleet)', async () => {
    server.wordDelayMs = 200;
    const a = start('a');
    const b = start('b');
    await a.open();
    const t0 = Date.now();
    expect(await b.open()).to.equal(1);
    await eventually(() => server.up().get('a')?.has('b') === true, 2000, 'a to have b up');
    // At once, not after a connect attempt timed out and was dialed again.
    expect(Date.now() - t0).to.be.below(1500);
    expect(server.net.made.filter((m) => m.by === 'b' && m.initiator)).to.have.length(1);
  });

  it(`believes no more than ${MAX_ROOM_PARTICIPANTS} participants announced by the server, the largest room there is, and says so once`, async () => {
    const warnings: string[] = [];
    const a = server.mesh('a', {}, { ...silentLogger, warn: (_o, m) => void warnings.push(m ?? '') });
    await a.open();
    for (let i = 0; i < MAX_ROOM_PARTICIPANTS + 10; i++)
      a.handlePeerEnabled({ id: `p${i}`, name: `p${i}`, joinedAtMs: i });
    expect(warnings).to.deep.equal(['the server listed more participants than a room holds']);
  });

  it('the newcomer dials everyone already there; open() resolves once each is up', async () => {
    const a = start('a');
    const b = start('b');
    const c = start('c');
    expect(await a.open()).to.equal(0);
    expect(await b.open()).to.equal(1);
    expect(server.up().get('b')).to.deep.equal(new Set(['a']));
    expect(await c.open()).to.equal(2);
    expect(server.up().get('c')).to.deep.equal(new Set(['a', 'b']));
    await eventually(() => server.up().get('a')?.size === 2 && server.up().get('b')?.size === 2, 2000, 'a full mesh');
    expect(server.net.made.filter((m) => m.initiator).map((m) => m.by)).to.deep.equal(['b', 'c', 'c']);
  });

  it('a connect that fails is dialed again at once by the dialer, and the pair comes up', async () => {
    const a = start('a');
    const b = start('b');
    await a.open();
    server.net.failNext = 2;
    await b.open();
    const dials = server.net.made.filter((m) => m.initiator);
    expect(dials.map((m) => m.by)).to.deep.equal(['b', 'b', 'b']);
    // First re-dial within 50 ms (jitter only), the next after 400 ms or more (backoff).
    expect(dials[1]!.atMs - dials[0]!.atMs).to.be.below(200);
    expect(dials[2]!.atMs - dials[1]!.atMs).to.be.at.least(150);
    expect(server.up().get('b')).to.deep.equal(new Set(['a']));
  });

  it('open() stops waiting after connectAttempts failures, and dialing goes on until the pair is up', async () => {
    const timeouts = { connectAttempts: 2, reconnectMaxDelayMs: 300 };
    const a = start('a', timeouts);
    const b = start('b', timeouts);
    await a.open();
    server.net.failNext = 1000;
    await b.open();
    expect(server.up().get('b')?.size).to.equal(0);
    expect(server.net.made.filter((m) => m.initiator).length).to.equal(2);
    server.net.failNext = 0;
    await eventually(() => server.up().get('b')?.has('a') === true, 3000, 'the pair to come up later');
  });

  it('a participant that disabled is not dialed again, and its peers are told it is down', async () => {
    const a = start('a');
    const b = start('b');
    await a.open();
    await b.open();
    await eventually(() => server.up().get('a')?.has('b') === true, 2000, 'a to see b');
    await b.close();
    await eventually(() => server.up().get('a')?.size === 0, 3000, 'a to see b go');
    const dialsBefore = server.net.made.length;
    await new Promise((r) => setTimeout(r, 200));
    expect(server.net.made.length).to.equal(dialsBefore);
  });
});
