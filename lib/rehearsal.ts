/**
 * Messaging rehearsed in memory before it is needed: two participants' meshes and messaging clients, built
 * as a room builds its own ({@link createMessagingStack}), over a signaling stand-in that hands each one's
 * relayed frames to the other. They enable (one listed in the other's enable reply, the other told by a
 * `peer_enabled`, as a server does it), become present to each other over relayed sessions, send an
 * acknowledged message each way, and disable. Nothing leaves the process and nothing reaches the app.
 *
 * Why: the first time a process runs this code, V8 compiles it (lazily, function by function) and its inline
 * caches start empty, and that cost fell inside the window where every peer of a room becomes present.
 * Run while the room connects (beside the network waits of the signaling connection and the join), the cold
 * cost is paid there instead. Measured (a participant process enabling beside nine present ones, 2 cores, 20
 * rounds each way): its CPU from enable() to presence 18.1 ms against 21.6 when only one relayed session was
 * rehearsed; Room.connect() took no longer (README, Benchmarks: *the rehearsal grows*).
 */
import { DEFAULT_RECEIVE_LIMITS, DEFAULT_TIMEOUTS, type ReceiveLimits, type RoomTimeouts } from './defaults.js';
import type { RelayAeadFactory, RelayKdf, RelayKeyPair } from './link/relay-crypto.js';
import { silentLogger, type Logger } from './logger.js';
import type { Mesh } from './mesh/Mesh.js';
import type { MessagingClient } from './MessagingClient.js';
import { createMessagingStack, type MessagingSignaling } from './messaging-stack.js';
import type { ParticipantInfo, RelayTerms } from './protocol/signaling.js';
import { checkIncomingRelay } from './protocol/signaling-relay-checks.js';
import { windowFor } from './signaling/EventWindow.js';
import { RelayPacer } from './signaling/RelayPacer.js';
import { unrefTimer } from './util/schedule.js';

/** What {@link rehearseMessaging} runs on: the room's own cipher and key derivation. @internal */
export interface RehearsalOptions {
  /** This participant's relay key pair (one side uses it; the other gets a fresh pair). */
  keys: RelayKeyPair;
  aead: RelayAeadFactory;
  kdf: RelayKdf;
  /** Where a failed rehearsal is told (at debug: nothing depends on it). */
  logger: Logger;
  /**
   * Longest the rehearsal may take; then it stops where it is.
   * @default 2000
   */
  timeoutMs?: number;
}

/** Longest the rehearsal waits for its two participants to say goodbye and close. */
const CLOSE_WAIT_MS = 200;

/** The rehearsal's relay limits and event window: those a default server announces. */
const TERMS: RelayTerms = { maxFrameBytes: 64512, bytesPerSecond: 4 * 1024 * 1024, burstBytes: 1024 * 1024 };
const MAX_PENDING_EVENTS = 64;

/**
 * One side's signaling server, in memory: the other side is the only participant, and nothing but relayed
 * frames is signaled (the rehearsal's path policy is `relay`). A frame goes the way the signaling client's
 * go: paced ({@link RelayPacer}), windowed ({@link EventWindow}), and checked on arrival as the client
 * checks the server's; it reaches the other side's mesh in a microtask, in order.
 */
export class LoopSignaling implements MessagingSignaling {
  readonly relayTerms = TERMS;
  readonly #self: ParticipantInfo;
  #other: { info: ParticipantInfo; signaling: LoopSignaling } | undefined;
  #enabled = false;
  readonly #window = windowFor(MAX_PENDING_EVENTS);
  readonly #pacer = new RelayPacer(TERMS, (to, data, sent) =>
    this.#window.take(
      false,
      (slot) => {
        this.#deliver(to, data);
        // The server answers in order, and at once here.
        if (slot.ack) queueMicrotask(() => slot.answered(true));
        sent(true);
      },
      () => sent(false),
    ),
  );
  mesh: Mesh | undefined;

  constructor(self: ParticipantInfo) {
    this.#self = self;
  }

  /** Makes `a` and `b` each other's only peer. */
  static pair(a: LoopSignaling, b: LoopSignaling): void {
    a.#other = { info: b.#self, signaling: b };
    b.#other = { info: a.#self, signaling: a };
  }

  enableMessaging(): Promise<ParticipantInfo[]> {
    this.#enabled = true;
    const other = this.#other;
    if (other === undefined || !other.signaling.#enabled) return Promise.resolve([]);
    other.signaling.mesh?.handlePeerEnabled(this.#self);
    return Promise.resolve([other.info]);
  }

  disableMessaging(): Promise<void> {
    this.#enabled = false;
    this.#other?.signaling.mesh?.handlePeerDisabled(this.#self.id);
    return Promise.resolve();
  }

  sendSignal(): void {}

  sendRelay(to: string, data: Uint8Array): Promise<void> {
    return this.#pacer.send(to, data);
  }

  #deliver(to: string, data: Uint8Array): void {
    const other = this.#other;
    if (other?.info.id !== to) return;
    const event = { from: this.#self.id, data: data.slice() };
    queueMicrotask(() => {
      const checked = checkIncomingRelay(event);
      if (checked.ok) other.signaling.mesh?.handleRelay(checked.value.from, checked.value.data);
    });
  }
}

/**
 * A relay-only messaging stack of participant `info` over a {@link LoopSignaling} (to be paired with
 * another's), with the rehearsal's settings (and the room's default timeouts unless given). Also what the
 * unit tests of the messaging layer run on.
 * @internal
 */
export function loopStack(
  info: ParticipantInfo,
  keys: RelayKeyPair,
  aead: RelayAeadFactory,
  kdf: RelayKdf,
  timeouts: RoomTimeouts = DEFAULT_TIMEOUTS,
  limits: { maxAttachmentBytes?: number; receiveLimits?: ReceiveLimits } = {},
): { signaling: LoopSignaling; mesh: Mesh; messaging: MessagingClient } {
  const signaling = new LoopSignaling(info);
  const { mesh, messaging } = createMessagingStack({
    localId: () => info.id,
    localAttributes: () => ({}),
    signaling,
    deps: {
      paths: 'relay',
      relayKeys: keys,
      relayAead: aead,
      relayKdf: kdf,
      wrtc: undefined,
      rtcConfig: {},
      timeouts,
      maxAttachmentBytes: limits.maxAttachmentBytes ?? 1024,
      receiveLimits: limits.receiveLimits ?? DEFAULT_RECEIVE_LIMITS,
      logger: silentLogger,
    },
  });
  signaling.mesh = mesh;
  return { signaling, mesh, messaging };
}

/**
 * Runs messaging between two in-memory participants once, so that the code of presence over the relay is
 * compiled and warm before the first real peer needs it. Resolves true once both were present to each other
 * and each acknowledged the other's message; never rejects: a failure resolves false, is logged at debug and
 * changes nothing else.
 * @internal
 * @example await rehearseMessaging({ keys, aead: nodeRelayAead, kdf: nodeRelayKdf, logger })
 */
export async function rehearseMessaging(options: RehearsalOptions): Promise<boolean> {
  const clients: MessagingClient[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const other = await options.kdf.generateKeyPair();
    const sides = [
      { id: 'rehearsal-a', keys: options.keys },
      { id: 'rehearsal-b', keys: other },
    ].map(({ id, keys }) => {
      const info: ParticipantInfo = { id, name: 'rehearsal', joinedAtMs: 0, relayKey: keys.publicKey };
      const { signaling, messaging } = loopStack(info, keys, options.aead, options.kdf);
      clients.push(messaging);
      return { id, signaling, messaging };
    });
    const [a, b] = sides as [(typeof sides)[0], (typeof sides)[0]];
    LoopSignaling.pair(a.signaling, b.signaling);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('not done in time')), options.timeoutMs ?? 2000);
      unrefTimer(timer);
    });
    const present = (side: typeof a, peer: string): Promise<void> =>
      new Promise((resolve) => {
        const check = (): void => {
          if (side.messaging.getParticipant(peer) === undefined) return;
          side.messaging.off('participant_added', check);
          resolve();
        };
        side.messaging.on('participant_added', check);
        check();
      });
    // a enables first and hears of b from its server; b finds a in its enable reply.
    await Promise.race([a.messaging.enable(), timeout]);
    await Promise.race([Promise.all([b.messaging.enable(), present(a, b.id), present(b, a.id)]), timeout]);
    const sends = [
      a.messaging.sendMessage({ to: b.id, type: 'rehearsal', message: { n: 1 } }),
      b.messaging.sendMessage({ to: a.id, type: 'rehearsal', message: { n: 1 } }),
    ];
    await Promise.race([Promise.all(sends), timeout]);
    return true;
  } catch (err) {
    options.logger.debug({ err: String(err) }, 'the messaging rehearsal failed');
    return false;
  } finally {
    clearTimeout(timer);
    // Goodbyes each way, then both meshes closed; not awaited past a moment (a failed rehearsal's may hang).
    const closed = Promise.all(clients.map((c) => c.leave().catch(() => {})));
    await Promise.race([closed, new Promise((resolve) => unrefTimer(setTimeout(resolve, CLOSE_WAIT_MS)))]);
  }
}
