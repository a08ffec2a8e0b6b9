/**
 * The path of every client event: its size counted off the wire, queued behind the connection's earlier
 * events, dispatched to the handler of its name, and answered exactly once with a {@link Reply} (through
 * its acknowledgement, or `request_error` when it has none). A handler throws {@link RequestError} to
 * refuse; anything else it throws is answered `Internal` and logged, never thrown out.
 *
 * Handlers are typed from `ClientToServerEvents`: the handler of `join` must resolve with the data that
 * `join`'s acknowledgement expects, so the server and the client cannot drift.
 */
import type { ClientToServerEvents, Reply, SignalingErrorReason } from '../lib/protocol/signaling.js';
import type { FromStore, ServerSocket } from './connection.js';
import type { ServerLogger } from './options-serving.js';

/** Events one connection may have waiting; more are refused with `TooManyRequests`. */
export const MAX_PENDING_EVENTS = 64;

/** The acknowledgement callback of client event `E`: the last parameter of its signature. */
type AckOf<E extends keyof ClientToServerEvents> = ClientToServerEvents[E] extends (...args: infer A) => void
  ? A extends [...unknown[], infer Ack]
    ? Ack
    : never
  : never;

/** The data a successful reply to client event `E` carries, as its acknowledgement declares it. */
export type ReplyData<E extends keyof ClientToServerEvents> =
  AckOf<E> extends (reply: infer R) => void ? SuccessData<R> : never;

/** The `data` of the successful members of reply union `R`. */
type SuccessData<R> = R extends { ok: true; data: infer T } ? T : never;

/** Handles client event `E`: gets its arguments as received (unchecked), resolves with its reply's data. */
export type RequestHandler<E extends keyof ClientToServerEvents> = (args: unknown[]) => Promise<ReplyData<E>>;

/** One handler per client event; an event of any other name is refused with `BadRequest`. */
export type RequestHandlers = { [E in keyof ClientToServerEvents]: RequestHandler<E> };

/** A refusal a handler throws: answered to the client with its `reason` and `message`. */
export class RequestError extends Error {
  constructor(
    readonly reason: SignalingErrorReason,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Makes the {@link FromStore} of a server: a store call that fails is logged and refused `Unavailable`, and
 * none is made while the store is not `healthy` (refused `Unavailable` at once: requests do not queue up
 * behind a store that does not answer).
 */
export function storeCaller(logger: ServerLogger, healthy: () => boolean = () => true): FromStore {
  return async (call) => {
    if (!healthy()) throw new RequestError('Unavailable', 'the server cannot reach its membership store; try again');
    try {
      return await call();
    } catch (err) {
      logger.warn({ err: { message: (err as Error)?.message } }, 'membership store unavailable');
      throw new RequestError('Unavailable', 'the server cannot reach its membership store; try again');
    }
  };
}

/** What a {@link RequestQueue} reports to its server. */
export interface RequestQueueOptions {
  /** Largest event accepted, in bytes; a larger one is refused with `PayloadTooLarge`. */
  maxPayloadBytes: number;
  logger: ServerLogger;
  /** Counts a refusal (the rejections metric). */
  onRefused(reason: SignalingErrorReason): void;
  /** Records the size of every event received, in bytes. */
  onEventSize(bytes: number): void;
}

/**
 * The wire size of each event a connection sent, in the order socket.io dispatches them. An event is its
 * socket.io packet (a string: type `2` event, `5` event with binary attachments, `NN-` of them) and, for
 * `5`, the binary messages that follow. Sizes are taken as messages arrive and handed out as events are
 * dispatched: socket.io runs its middleware a tick after decoding, so several events' messages may
 * arrive in between (pipelined relays did), and a running sum would charge one event for two.
 */
class EventSizes {
  /** Sizes of events read whole and not yet dispatched, oldest first (a handful at most). */
  readonly #whole: number[] = [];
  /** The event still reading its binary attachments: its bytes so far, and how many attachments are due. */
  #bytes = 0;
  #attachmentsDue = 0;
  /** Whether the packet reading attachments is an event (a binary ack's attachments are not counted). */
  #isEvent = false;

  packet(data: unknown): void {
    if (typeof data === 'string') {
      const type = data.charCodeAt(0);
      const binary = type === 0x35 || type === 0x36; // '5' binary event, '6' binary ack
      // Read as socket.io-parser reads it (Number, not parseInt): a count written `0xa` or `1e1` is 10
      // attachments to the parser, and read as 0 or 1 here it let 2.5 MiB events be charged 314 bytes.
      const due = binary ? Number(data.slice(1, data.indexOf('-', 1))) : 0;
      this.#isEvent = type === 0x32 || type === 0x35; // '2' event
      this.#bytes = Buffer.byteLength(data);
      this.#attachmentsDue = Number.isSafeInteger(due) && due > 0 ? due : 0;
      if (this.#attachmentsDue === 0 && this.#isEvent) this.#whole.push(this.#bytes);
      return;
    }
    if (this.#attachmentsDue === 0) return;
    this.#bytes += data instanceof Uint8Array || data instanceof ArrayBuffer ? data.byteLength : 0;
    if (--this.#attachmentsDue === 0 && this.#isEvent) this.#whole.push(this.#bytes);
  }

  /** The size of the event being dispatched now. */
  next(): number {
    return this.#whole.shift() ?? 0;
  }
}

/** One connection's requests: their sizes, at most {@link MAX_PENDING_EVENTS} waiting, handled one after another. */
export class RequestQueue {
  #queue: Promise<void> = Promise.resolve();
  #pending = 0;
  readonly #sizes = new EventSizes();

  constructor(private readonly options: RequestQueueOptions) {}

  /** Counts a message read off the wire (an engine.io message packet's data). */
  handlePacket(data: unknown): void {
    this.#sizes.packet(data);
  }

  /** As an event is dispatched: the refusal of one over `maxPayloadBytes`, else undefined. */
  handleEventSize(): Reply<never> | undefined {
    const bytes = this.#sizes.next();
    this.options.onEventSize(bytes);
    if (bytes <= this.options.maxPayloadBytes) return undefined;
    this.options.logger.debug({ bytes }, 'event too large');
    return this.refusal(
      'PayloadTooLarge',
      `the event is ${bytes} bytes; the largest accepted is ${this.options.maxPayloadBytes}`,
    );
  }

  /** Runs `run` after the connection's earlier requests and hands its {@link Reply} to `answer`. */
  handleRequest<T>(event: string, run: () => Promise<T>, answer: (reply: Reply<T>) => void): void {
    if (this.#pending >= MAX_PENDING_EVENTS) {
      answer(this.refusal('TooManyRequests', `more than ${MAX_PENDING_EVENTS} events of this connection are waiting`));
      return;
    }
    this.#pending++;
    this.#queue = this.#queue
      .then(run)
      .then(
        (data): Reply<T> => ({ ok: true, data }),
        (err: unknown): Reply<T> => {
          if (err instanceof RequestError) {
            this.options.logger.debug({ event, reason: err.reason }, 'request refused');
            return this.refusal(err.reason, err.message);
          }
          const { message, stack } = (err ?? {}) as Partial<Error>;
          this.options.logger.error({ event, err: { message, stack } }, 'handler failed');
          return this.refusal('Internal', 'internal error');
        },
      )
      .then((reply) => {
        this.#pending--;
        answer(reply);
      });
  }

  /** Runs `then` once every request queued so far has been answered. */
  afterQueued(then: () => Promise<void>): Promise<void> {
    return this.#queue.then(then);
  }

  /** A refused reply, counted. */
  refusal(reason: SignalingErrorReason, message: string): Reply<never> {
    this.options.onRefused(reason);
    return { ok: false, error: { reason, message } };
  }
}

/** Feeds `socket`'s events through `queue` to `handlers`, answering each. */
export function serveRequests(socket: ServerSocket, queue: RequestQueue, handlers: RequestHandlers): void {
  const answer = <T>(event: string, ack: ((reply: Reply<T>) => void) | undefined, reply: Reply<T>): void => {
    if (ack !== undefined) ack(reply);
    else if (!reply.ok) socket.emit('request_error', { event: event.slice(0, 64), ...reply.error });
  };
  const ackOf = <T>(args: unknown[]): ((reply: Reply<T>) => void) | undefined => {
    const last = args[args.length - 1];
    return typeof last === 'function' ? (last as (reply: Reply<T>) => void) : undefined;
  };

  socket.conn.on('packet', (packet: { type: string; data?: unknown }) => {
    if (packet.type === 'message') queue.handlePacket(packet.data);
  });
  socket.use((packet, next) => {
    const refused = queue.handleEventSize();
    if (refused === undefined) return next();
    answer(String(packet[0]), ackOf(packet), refused);
  });

  const on = <E extends keyof ClientToServerEvents>(event: E, handler: RequestHandler<E>): void => {
    // The listener takes what arrived, unchecked, rather than the typed arguments the event map declares:
    // socket.io does not validate, so the handler must (hence the cast).
    socket.on(event, ((...args: unknown[]) => {
      const ack = ackOf<ReplyData<E>>(args);
      if (ack !== undefined) args.pop();
      queue.handleRequest(
        event,
        () => handler(args),
        (reply) => answer(event, ack, reply),
      );
    }) as never);
  };
  const events = Object.keys(handlers) as Array<keyof ClientToServerEvents>;
  for (const event of events) on(event, handlers[event] as RequestHandler<typeof event>);

  const known = new Set<string>(events);
  socket.onAny((event: string) => {
    if (!known.has(event)) answer(String(event), undefined, queue.refusal('BadRequest', 'unknown event'));
  });
}
