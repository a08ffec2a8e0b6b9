/**
 * A relayed session rehearsed in memory before it is needed: two {@link Session}s over two {@link RelayLink}s
 * whose frames go straight to each other, through the handshake, both hellos and one acknowledged message
 * each way. Nothing leaves the process. Why: the first time a process runs this code, V8 compiles it (lazily,
 * function by function) and its inline caches start empty, and that cost fell inside the window where every
 * peer of a room becomes present. Measured (bench mesh, N = 10 participant processes on 2 cores): each spent
 * 55–63 ms of CPU from enable() to presence, where the same work warm costs about 12 ms per participant. Run
 * while the room connects (beside the network waits of the signaling connection and the join), the cold cost
 * is paid there instead.
 */
import { DEFAULT_TIMEOUTS } from '../defaults.js';
import { RelayLink } from '../link/RelayLink.js';
import type { RelayAeadFactory, RelayKdf, RelayKeyPair } from '../link/relay-crypto.js';
import { silentLogger, type Logger } from '../logger.js';
import { MessageBody } from '../protocol/frames.js';
import { unrefTimer } from '../util/schedule.js';
import { AttachmentBudget } from './Inbox.js';
import { Session } from './Session.js';

/** What {@link rehearseRelayedSession} runs on: the room's own cipher and key derivation. @internal */
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

/** One direction of the in-memory relay: frames go to the other link in a microtask, in order. */
class LoopPort {
  to: RelayLink | undefined;
  send(data: Uint8Array): void {
    const copy = data.slice();
    queueMicrotask(() => this.to?.handleFrame(copy));
  }
}

/**
 * Runs a relayed session pair in memory once, so that the code of the relayed path is compiled and warm
 * before the first real peer needs it. Resolves true once both messages were acknowledged; never rejects: a
 * failure resolves false, is logged at debug and changes nothing else.
 * @internal
 * @example await rehearseRelayedSession({ keys, aead: nodeRelayAead, kdf: nodeRelayKdf, logger })
 */
export async function rehearseRelayedSession(options: RehearsalOptions): Promise<boolean> {
  const sessions: Session[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const other = await options.kdf.generateKeyPair();
    const ports = [new LoopPort(), new LoopPort()] as const;
    const link = (i: 0 | 1): RelayLink =>
      new RelayLink({
        port: ports[i],
        keys: i === 0 ? options.keys : other,
        localId: i === 0 ? 'rehearsal-a' : 'rehearsal-b',
        peerId: i === 0 ? 'rehearsal-b' : 'rehearsal-a',
        peerKey: i === 0 ? other.publicKey : options.keys.publicKey,
        cid: 'rehearsal',
        initiator: i === 0,
        maxFrameBytes: 64 * 1024,
        aead: options.aead,
        kdf: options.kdf,
        logger: silentLogger,
      });
    const links = [link(0), link(1)] as const;
    ports[0].to = links[1];
    ports[1].to = links[0];
    for (const i of [0, 1] as const) {
      sessions.push(
        new Session({
          participant: { id: i === 0 ? 'rehearsal-b' : 'rehearsal-a', name: 'rehearsal', joinedAtMs: 0 },
          cid: 'rehearsal',
          link: links[i],
          timeouts: DEFAULT_TIMEOUTS,
          maxAttachmentBytes: 1024,
          attachmentBudget: new AttachmentBudget(1024),
          receiveRate: { bytesPerSecond: 1 << 20, burstBytes: 1 << 20 },
          decodeBudget: { msPerSecond: 1000, burstMs: 1000 },
          localAttributes: () => ({}),
          logger: silentLogger,
        }),
      );
    }
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('not done in time')), options.timeoutMs ?? 2000);
      unrefTimer(timer);
    });
    const ready = (s: Session): Promise<void> => new Promise((resolve) => s.once('ready', () => resolve()));
    await Promise.race([Promise.all(sessions.map(ready)), timeout]);
    const [a, b] = sessions as [Session, Session];
    const sends = [a, b].map((s) => s.sendMessage(new MessageBody('rehearsal', { n: 1 }), undefined, true));
    await Promise.race([Promise.all(sends), timeout]);
    return true;
  } catch (err) {
    options.logger.debug({ err: String(err) }, 'the relayed-session rehearsal failed');
    return false;
  } finally {
    clearTimeout(timer);
    for (const s of sessions) s.close('rehearsal over');
  }
}
