/**
 * A session replaced while up: the peer ends its side and dials again while this side's session is still
 * up (this process stalled past the heartbeat timeout). Two messaging stacks over an in-memory relaying
 * signaling port (pure logic: the relayed links' frames pass through memory, sealed as on the wire). The
 * presence carries over (same object, no added or removed), and a request that waited on the replaced
 * session settles `ParticipantLeft` instead of waiting for good; a request after it is answered.
 * Found by a review of long-lived processes: each replacement added a `participant_added` and kept the old
 * session's request state, and a request with `timeoutMs: Infinity` never settled, even after disconnect.
 */
import { expect } from 'chai';
import { DEFAULT_RECEIVE_LIMITS, DEFAULT_TIMEOUTS } from '../../lib/defaults.js';
import { RequestError } from '../../lib/errors.js';
import { nodeRelayAead } from '../../lib/link/node-relay-aead.js';
import { nodeRelayKdf } from '../../lib/link/node-relay-kdf.js';
import { silentLogger } from '../../lib/logger.js';
import { createMessagingStack, type MessagingSignaling } from '../../lib/messaging-stack.js';
import type { Mesh } from '../../lib/mesh/Mesh.js';
import type { MessagingClient } from '../../lib/MessagingClient.js';
import type { ParticipantInfo, RelayTerms } from '../../lib/protocol/signaling.js';
import type { Session } from '../../lib/session/Session.js';

const TERMS: RelayTerms = { maxFrameBytes: 64512, bytesPerSecond: 1e9, burstBytes: 1e9 };

/** One side's signaling server, in memory: the other side is the only participant. */
class LoopSignaling implements MessagingSignaling {
  readonly relayTerms = TERMS;
  enabled = false;
  other!: LoopSignaling;
  mesh!: Mesh;
  constructor(readonly info: ParticipantInfo) {}
  enableMessaging(): Promise<ParticipantInfo[]> {
    this.enabled = true;
    if (!this.other.enabled) return Promise.resolve([]);
    this.other.mesh.handlePeerEnabled(this.info);
    return Promise.resolve([this.other.info]);
  }
  disableMessaging(): Promise<void> {
    this.enabled = false;
    this.other.mesh.handlePeerDisabled(this.info.id);
    return Promise.resolve();
  }
  sendSignal(): void {}
  sendRelay(_to: string, data: Uint8Array): Promise<void> {
    const copy = data.slice();
    queueMicrotask(() => this.other.mesh.handleRelay(this.info.id, copy));
    return Promise.resolve();
  }
}

async function side(id: string): Promise<{ sig: LoopSignaling; mesh: Mesh; messaging: MessagingClient }> {
  const keys = await nodeRelayKdf.generateKeyPair();
  const sig = new LoopSignaling({ id, name: id, joinedAtMs: 0, relayKey: keys.publicKey });
  const { mesh, messaging } = createMessagingStack({
    localId: () => id,
    localAttributes: () => ({}),
    signaling: sig,
    deps: {
      paths: 'relay',
      relayKeys: keys,
      relayAead: nodeRelayAead,
      relayKdf: nodeRelayKdf,
      wrtc: undefined,
      rtcConfig: {},
      timeouts: DEFAULT_TIMEOUTS,
      maxAttachmentBytes: 1024,
      receiveLimits: DEFAULT_RECEIVE_LIMITS,
      logger: silentLogger,
    },
  });
  sig.mesh = mesh;
  return { sig, mesh, messaging };
}

const until = async (check: () => boolean, what: string): Promise<void> => {
  const end = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
};

describe('a session replaced while up', function () {
  this.timeout(15_000);

  it('keeps the presence, and settles the requests that waited on the old session', async () => {
    const a = await side('aaaa');
    const b = await side('bbbb');
    a.sig.other = b.sig;
    b.sig.other = a.sig;
    const events: string[] = [];
    a.messaging.on('participant_added', () => events.push('added'));
    a.messaging.on('participant_removed', () => events.push('removed'));
    let bSession: Session | undefined;
    b.mesh.on('participant_up', (s) => (bSession = s));
    // The first request is held by B's handler until after the replacement: its reply can never come.
    let release: (() => void) | undefined;
    b.messaging.handle('q', ({ message }) =>
      message.hold === true
        ? new Promise((resolve) => (release = () => resolve({ message: { late: true } })))
        : { message: { ok: true } },
    );
    try {
      await a.messaging.enable();
      await b.messaging.enable();
      await until(() => a.messaging.getParticipant('bbbb') !== undefined && bSession !== undefined, 'bob present');
      const bob = a.messaging.getParticipant('bbbb');
      const held = a.messaging.request({ to: 'bbbb', type: 'q', message: { hold: true }, timeoutMs: Infinity });
      const heldOutcome = held.then(
        () => 'answered',
        (e: unknown) => e,
      );
      await until(() => release !== undefined, 'the request to reach bob');
      const old = bSession;
      old!.close('test: bob ended its side'); // B dials again at once; A's session is still up
      await until(() => bSession !== old && a.messaging.getParticipant('bbbb')?.linkState === 'relayed', 'replaced');
      await new Promise((r) => setTimeout(r, 20));
      release!();
      const outcome = await heldOutcome;
      expect(outcome).to.be.instanceOf(RequestError);
      expect((outcome as RequestError).reason).to.equal('ParticipantLeft');
      expect(events).to.deep.equal(['added']);
      expect(a.messaging.getParticipant('bbbb')).to.equal(bob);
      const again = await a.messaging.request({ to: bob!, type: 'q', message: {} });
      expect(again.message).to.deep.equal({ ok: true });
    } finally {
      await a.messaging.leave();
      await b.messaging.leave();
    }
  });
});
