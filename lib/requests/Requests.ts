import { InvalidArgumentError, MessagingError, RequestError } from '../errors.js';
import type { Call, CallFailureReason } from '../protocol/frames.js';
import { CallKind, MAX_CALL_TEXT_LENGTH, MAX_TYPE_LENGTH } from '../protocol/frames.js';
import type { JsonObject } from '../protocol/json.js';
import { checkJsonObject, isWellFormedText } from '../protocol/json.js';
import { isDetached } from '../util/bytes.js';
import { unrefTimer } from '../util/schedule.js';

/** Requests from one peer that this participant holds at once (handlers running); more are answered `Busy`. */
export const MAX_REQUESTS_IN_HAND_PER_PEER = 64;

/** How long a request waits for its reply unless its `timeoutMs` says otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** What a reply brought. @internal */
export interface CallReply {
  payload: JsonObject;
  attachment: Uint8Array | undefined;
}

/** What a handler's outcome becomes on the wire: a reply, or why there is none. @internal */
export type Answer =
  | { kind: 'reply'; payload: JsonObject; attachment: Uint8Array | undefined }
  | { kind: 'failure'; reason: CallFailureReason; text: string };

/** What an arriving reply did. @internal */
export type ReplyResult =
  | { kind: 'settled' }
  /** Late (timed out, aborted) or repeated: dropped without complaint. */
  | { kind: 'dropped' }
  /** A reply no request of this side could have caused: a protocol error. */
  | { kind: 'violation'; detail: string };

/** What to do with an arriving request. @internal */
export type Admission<H> =
  { kind: 'run'; handler: H; done: () => void } | { kind: 'refuse'; reason: 'NoHandler' | 'Busy' };

interface Outgoing {
  readonly participantId: string;
  readonly type: string;
  readonly resolve: (reply: CallReply) => void;
  readonly reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  onAbort: (() => void) | undefined;
  signal: AbortSignal | undefined;
}

/** Request state of one link: its ids and the requests awaiting replies. */
interface LinkState {
  lastId: number;
  readonly outgoing: Map<number, Outgoing>;
}

/**
 * Request and reply over the links of one participant, as pure bookkeeping: request ids per link, the
 * requests awaiting a reply (each with its timeout and abort signal), the handler for each request type,
 * and how many of a peer's requests are in hand. Its owner sends and receives; data comes in through
 * methods ({@link open}, {@link reply}, {@link admit}, {@link closeLink}) and what happened goes out as
 * results and settled promises. `H` is the owner's handler type.
 * @internal
 */
export class Requests<H> {
  readonly #handlers = new Map<string, H>();
  readonly #links = new Map<string, LinkState>();
  /** Requests each participant has in hand here (handlers running), by participant id. */
  readonly #inHand = new Map<string, number>();
  readonly #maxInHand: number;

  constructor(maxInHandPerPeer: number = MAX_REQUESTS_IN_HAND_PER_PEER) {
    this.#maxInHand = maxInHandPerPeer;
  }

  /** Registers the one handler of `type`; returns what unregisters it. Throws when `type` has one already. */
  handle(type: string, handler: H): () => void {
    if (typeof type !== 'string' || type.length === 0 || type.length > MAX_TYPE_LENGTH || !isWellFormedText(type))
      throw new InvalidArgumentError(
        `handle: type must be a non-empty string of at most ${MAX_TYPE_LENGTH} characters, well-formed Unicode`,
      );
    if (typeof handler !== 'function') throw new InvalidArgumentError('handle: handler must be a function');
    if (this.#handlers.has(type))
      throw new InvalidArgumentError(`handle: '${type}' already has a handler; unregister it first`);
    this.#handlers.set(type, handler);
    return () => {
      if (this.#handlers.get(type) === handler) this.#handlers.delete(type);
    };
  }

  /** Requests awaiting a reply, over every link. */
  get pendingCount(): number {
    let n = 0;
    for (const l of this.#links.values()) n += l.outgoing.size;
    return n;
  }

  /**
   * Starts a request on `link`: returns its id, to send in the request's call, and the promise of its reply.
   * The promise rejects with {@link RequestError} `Timeout` after `timeoutMs` (none when Infinity), with
   * {@link MessagingError} `Aborted` when `signal` fires, or with what {@link fail} or {@link closeLink} says.
   */
  open(
    link: string,
    participantId: string,
    type: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): { id: number; reply: Promise<CallReply> } {
    const state = this.#link(link);
    const id = ++state.lastId;
    const reply = new Promise<CallReply>((resolve, reject) => {
      const out: Outgoing = { participantId, type, resolve, reject, timer: undefined, onAbort: undefined, signal };
      state.outgoing.set(id, out);
      if (timeoutMs !== Infinity) {
        out.timer = setTimeout(
          () => this.#settle(link, id, RequestError.replyTimeout(participantId, type, timeoutMs)),
          timeoutMs,
        );
        unrefTimer(out.timer);
      }
      if (signal !== undefined) {
        out.onAbort = () => this.#settle(link, id, MessagingError.aborted(participantId));
        signal.addEventListener('abort', out.onAbort, { once: true });
      }
    });
    return { id, reply };
  }

  /** Ends request `id` of `link` with `err` (its send failed); nothing when it already ended. */
  fail(link: string, id: number, err: Error): void {
    this.#settle(link, id, err);
  }

  /** A reply or failed reply arrived on `link`, for the request in `call.id`. */
  reply(link: string, type: string, call: Call, payload: JsonObject, attachment: Uint8Array | undefined): ReplyResult {
    const state = this.#links.get(link);
    const lastId = state?.lastId ?? 0;
    if (call.id === 0 || call.id > lastId)
      return { kind: 'violation', detail: `reply to request ${call.id}, only ${lastId} sent` };
    const out = state?.outgoing.get(call.id);
    if (out === undefined) return { kind: 'dropped' };
    if (out.type !== type)
      return { kind: 'violation', detail: `reply of type '${type}' to request ${call.id} of type '${out.type}'` };
    if (call.kind === CallKind.Failure) {
      this.#settle(link, call.id, failureError(out.participantId, out.type, call.reason, call.text));
    } else {
      this.#settle(link, call.id, undefined, { payload, attachment });
    }
    return { kind: 'settled' };
  }

  /**
   * A request of `type` arrived from participant `peer`: its handler to run (call `done` once it has answered),
   * or why it is refused: no handler, or the peer already has {@link MAX_REQUESTS_IN_HAND_PER_PEER} requests in
   * hand. Counted by participant, not by link: counted by link, a peer that opened one session after another
   * had the cap afresh in each (a review had 1,280 of one peer's requests in hand, over 20 sessions).
   */
  admit(peer: string, type: string): Admission<H> {
    const handler = this.#handlers.get(type);
    if (handler === undefined) return { kind: 'refuse', reason: 'NoHandler' };
    const inHand = this.#inHand.get(peer) ?? 0;
    if (inHand >= this.#maxInHand) return { kind: 'refuse', reason: 'Busy' };
    this.#inHand.set(peer, inHand + 1);
    let done = false;
    return {
      kind: 'run',
      handler,
      done: () => {
        if (done) return;
        done = true;
        const left = (this.#inHand.get(peer) ?? 1) - 1;
        if (left > 0) this.#inHand.set(peer, left);
        else this.#inHand.delete(peer);
      },
    };
  }

  /** The link closed: its requests reject with {@link RequestError} `ParticipantLeft`, and it is forgotten. */
  closeLink(link: string): void {
    const state = this.#links.get(link);
    if (state === undefined) return;
    this.#links.delete(link);
    for (const [id, out] of [...state.outgoing]) {
      this.#settleIn(state, id, RequestError.leftBeforeReply(out.participantId, out.type));
    }
  }

  /** Every link is gone (messaging disabled): as {@link closeLink} for each. */
  closeAll(): void {
    for (const link of [...this.#links.keys()]) this.closeLink(link);
  }

  #link(link: string): LinkState {
    let state = this.#links.get(link);
    if (state === undefined) this.#links.set(link, (state = { lastId: 0, outgoing: new Map() }));
    return state;
  }

  #settle(link: string, id: number, err: Error | undefined, reply?: CallReply): void {
    const state = this.#links.get(link);
    if (state !== undefined) this.#settleIn(state, id, err, reply);
  }

  #settleIn(state: LinkState, id: number, err: Error | undefined, reply?: CallReply): void {
    const out = state.outgoing.get(id);
    if (out === undefined) return;
    state.outgoing.delete(id);
    if (out.timer !== undefined) clearTimeout(out.timer);
    if (out.onAbort !== undefined) out.signal?.removeEventListener('abort', out.onAbort);
    if (err !== undefined) out.reject(err);
    else out.resolve(reply as CallReply);
  }
}

/** The error a failed reply means at the requester. */
function failureError(participantId: string, type: string, reason: string, text: string): RequestError {
  if (reason === 'NoHandler') return RequestError.noHandler(participantId, type);
  if (reason === 'Busy') return RequestError.busy(participantId, type);
  return RequestError.handlerFailed(participantId, type, text);
}

/**
 * Runs a handler and turns what it did into an {@link Answer}: its `{ message, attachment? }`, or, when it
 * threw or returned something else, `HandlerFailed` with the error's message only (never its stack),
 * cut to {@link MAX_CALL_TEXT_LENGTH}. Never rejects.
 * @internal
 */
export async function runHandler(run: () => unknown): Promise<Answer> {
  let result: unknown;
  try {
    result = await run();
  } catch (err) {
    return { kind: 'failure', reason: 'HandlerFailed', text: truncate(errorText(err)) };
  }
  if (typeof result !== 'object' || result === null)
    return { kind: 'failure', reason: 'HandlerFailed', text: 'the handler returned no { message } object' };
  const { message, attachment } = result as { message?: unknown; attachment?: unknown };
  const problem = checkJsonObject(message, 'message');
  if (problem !== undefined)
    return { kind: 'failure', reason: 'HandlerFailed', text: `the handler's reply: ${problem}` };
  if (attachment !== undefined && !(attachment instanceof Uint8Array))
    return { kind: 'failure', reason: 'HandlerFailed', text: "the handler's reply: attachment must be a Uint8Array" };
  // Else the asker would get an empty attachment, as if that were the answer.
  if (attachment !== undefined && isDetached(attachment))
    return {
      kind: 'failure',
      reason: 'HandlerFailed',
      text: "the handler's reply: attachment's buffer was transferred (detached): it has no bytes left",
    };
  return { kind: 'reply', payload: message as JsonObject, attachment };
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  return 'the handler threw a value that is not an Error';
}

/**
 * `text` as it can go on the wire: unpaired surrogates (which UTF-8 cannot carry) as U+FFFD, and cut to
 * {@link MAX_CALL_TEXT_LENGTH}, never through a surrogate pair.
 * @internal
 */
export function truncate(raw: string): string {
  const text = raw.replace(/[\uD800-\uDFFF]/gu, '\uFFFD');
  if (text.length <= MAX_CALL_TEXT_LENGTH) return text;
  let end = MAX_CALL_TEXT_LENGTH - 1;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}
