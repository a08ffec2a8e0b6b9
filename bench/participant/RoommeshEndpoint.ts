import type { Logger, PathPolicy, ReceivedMessage, Room, RoomTimeouts, WebRTCImplementation } from '../../lib/index.js';
import type { BlobOutcome, Expectation, LatencyReply, LatencySend, Received } from '../protocol.js';
import type { Endpoint } from './Endpoint.js';
import { BLOB_TYPE, PING_TYPE, PONG_TYPE, SMALL_TYPE, laterTask, pingPayload, smallPayload } from './message.js';
import { Tally, deferred } from './waiters.js';

/** Keeps why participants were removed, so that a failed measurement can say why; warnings go to stderr. */
class ReasonLogger implements Logger {
  readonly removals: string[] = [];
  redials = 0;
  debug(_obj: object, msg?: string): void {
    if (msg === 'will redial') this.redials++; // MessagingClient's debug line for every failed attempt it dials again
  }
  info(obj: { reason?: unknown }, msg?: string): void {
    if (msg !== 'participant removed') return;
    this.removals.push(String(obj.reason));
  }
  warn(obj: object, msg?: string): void {
    console.error('[roommesh]', msg, obj);
  }
  error(obj: object, msg?: string): void {
    console.error('[roommesh]', msg, obj);
  }
}

/**
 * The library's entry point as the host loads it: lib/node.js in a Node process, the shipped browser
 * bundle (/roommesh.js) in a page. Only types come from lib here, so this file bundles for either.
 */
export type RoomEntry = Pick<typeof Room, 'connect'>;

/** roommesh as its users call it: `sendMessage` resolves on the recipient's acknowledgement. */
export class RoommeshEndpoint implements Endpoint {
  readonly #room: Room;
  readonly #logger: ReasonLogger;

  private constructor(room: Room, logger: ReasonLogger) {
    this.#room = room;
    this.#logger = logger;
  }

  /**
   * Joins `room` through the signaling server at `url` with `entry.connect`; `wrtc` picks the WebRTC
   * implementation (the entry's default when absent: node-datachannel, or the browser's); `timeouts` are
   * the library's own option, left at its defaults unless asked; so is `paths` (relay-first when absent).
   */
  static async connect(
    entry: RoomEntry,
    url: string,
    room: string,
    name: string,
    wrtc: WebRTCImplementation | undefined,
    timeouts: Partial<RoomTimeouts>,
    paths?: PathPolicy,
  ): Promise<RoommeshEndpoint> {
    const logger = new ReasonLogger();
    const r = await entry.connect({
      url,
      room,
      name,
      logger,
      timeouts,
      ...(wrtc === undefined ? {} : { wrtc }),
      ...(paths === undefined ? {} : { paths }),
    });
    return new RoommeshEndpoint(r, logger);
  }

  get id(): string {
    return this.#room.localParticipant.id;
  }

  async enable(expectedPeers: number): Promise<void> {
    const messaging = this.#room.messaging;
    const all = deferred<void>();
    const check = (): void => {
      if (messaging.remoteParticipants.length >= expectedPeers) all.resolve();
    };
    messaging.on('participant_added', check);
    try {
      await messaging.enable();
      check();
      await all.promise;
    } finally {
      messaging.off('participant_added', check);
    }
  }

  async untilDirect(): Promise<void> {
    const messaging = this.#room.messaging;
    const all = deferred<void>();
    const check = (): void => {
      if (messaging.remoteParticipants.every((p) => p.linkState === 'direct')) all.resolve();
    };
    messaging.on('participant_link_changed', check);
    messaging.on('participant_removed', check);
    try {
      check();
      await all.promise;
    } finally {
      messaging.off('participant_link_changed', check);
      messaging.off('participant_removed', check);
    }
  }

  expect(e: Expectation): Promise<Received> {
    const messaging = this.#room.messaging;
    const tally = new Tally(e.messages ?? 0, e.bytes ?? 0);
    const listener = (m: ReceivedMessage): void => {
      if (m.fromParticipantId !== e.from) return;
      if (m.type === SMALL_TYPE) tally.add(1, 0);
      else if (m.type === BLOB_TYPE) tally.add(0, m.attachment?.byteLength ?? 0);
    };
    messaging.on('message', listener);
    return tally.done.promise.finally(() => messaging.off('message', listener));
  }

  #echo: ((m: ReceivedMessage) => void) | undefined;

  serveEcho(send: LatencySend, reply: LatencyReply): void {
    const messaging = this.#room.messaging;
    if (this.#echo !== undefined) messaging.off('message', this.#echo);
    const answer = (m: ReceivedMessage): void => {
      const options = { to: m.from, type: PONG_TYPE, message: m.message };
      if (send === 'ack') messaging.sendMessage(options).catch(() => {});
      else messaging.sendMessageNowait(options);
    };
    this.#echo = (m) => {
      if (m.type !== PING_TYPE) return;
      if (reply === 'listener') answer(m);
      else laterTask(() => answer(m));
    };
    messaging.on('message', this.#echo);
  }

  async sendMany(to: string, count: number): Promise<void> {
    const messaging = this.#room.messaging;
    const sends = new Array<Promise<void>>(count);
    for (let i = 0; i < count; i++)
      sends[i] = messaging.sendMessage({ to, type: SMALL_TYPE, message: smallPayload(i) });
    await this.#explained(Promise.all(sends));
  }

  /** `p`, with the reason a participant was removed added to its error. */
  async #explained<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (err) {
      if (this.#logger.removals.length === 0 || !(err instanceof Error)) throw err;
      throw new Error(`${err.message} (link closed: ${this.#logger.removals.join('; ')})`, { cause: err });
    }
  }

  async roundTrips(to: string, count: number, send: LatencySend, bytes: number): Promise<number[]> {
    const messaging = this.#room.messaging;
    const samples: number[] = [];
    let waiting: ((m: ReceivedMessage) => void) | undefined;
    const listener = (m: ReceivedMessage): void => {
      if (m.type === PONG_TYPE && m.fromParticipantId === to) waiting?.(m);
    };
    messaging.on('message', listener);
    try {
      for (let i = 0; i < count; i++) {
        const reply = new Promise<ReceivedMessage>((resolve) => (waiting = resolve));
        const options = { to, type: PING_TYPE, message: pingPayload(i, bytes) };
        const t0 = performance.now();
        let m: ReceivedMessage;
        if (send === 'ack') {
          const acked = messaging.sendMessage(options);
          // A request that fails rejects at once instead of leaving the wait for the reply hanging.
          m = await this.#explained(Promise.race([reply, acked.then(() => reply)]));
          samples.push(performance.now() - t0);
          await acked;
        } else {
          if (!messaging.sendMessageNowait(options)) throw new Error(`request ${i}: not sent (no link to ${to})`);
          m = await reply;
          samples.push(performance.now() - t0);
        }
        if (m.message.seq !== i) throw new Error(`reply ${String(m.message.seq)} to request ${i}`);
      }
    } finally {
      messaging.off('message', listener);
    }
    return samples;
  }

  /** The library cuts the attachment itself, so `chunkBytes` does not apply. */
  async sendBlob(to: string, bytes: Uint8Array): Promise<BlobOutcome> {
    const t0 = performance.now();
    try {
      await this.#room.messaging.sendMessage({
        to,
        type: BLOB_TYPE,
        message: { name: 'blob.bin', bytes: bytes.byteLength },
        attachment: bytes,
      });
    } catch (err) {
      // Above maxAttachmentBytes (256 MiB by default). By reason, not class: a page's MessagingError comes from the bundle.
      if ((err as { reason?: unknown }).reason === 'MessageTooLarge') return { unsupported: (err as Error).message };
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rethrows what the page threw, as it was
      return this.#explained(Promise.reject(err));
    }
    return { elapsedMs: performance.now() - t0 };
  }

  async broadcastMany(count: number, receivers: string[]): Promise<void> {
    const messaging = this.#room.messaging;
    const sends = new Array<ReturnType<typeof messaging.broadcastMessage>>(count);
    for (let i = 0; i < count; i++)
      sends[i] = messaging.broadcastMessage({ type: SMALL_TYPE, message: smallPayload(i) });
    for (const r of await Promise.all(sends)) {
      if (r.failed.length > 0 || r.delivered.length !== receivers.length) {
        const why = this.#logger.removals.length > 0 ? ` (link closed: ${this.#logger.removals.join('; ')})` : '';
        throw new Error(
          `broadcast delivered to ${r.delivered.length} of ${receivers.length}, failed ${r.failed.length}${why}`,
        );
      }
    }
  }

  counters(): Record<string, number> {
    return { redials: this.#logger.redials };
  }

  close(): Promise<void> {
    return this.#room.disconnect();
  }
}
