import type { ReceiveLimits, RoomTimeouts } from './defaults.js';
import type { RoomOptions } from './options.js';
import type { WebRTCImplementation } from './link/webrtc.js';
import { DEFAULT_RECEIVE_LIMITS, DEFAULT_TIMEOUTS } from './defaults.js';
import { DEFAULT_ROOM_OPTIONS, MAX_ATTACHMENT_BYTES_LIMIT, ROOM_OPTION_NAMES } from './options.js';
import { InvalidArgumentError } from './errors.js';
import { ROOM_EVENT_NAMES, type RoomEvents } from './events.js';
import {
  webCryptoAead,
  webCryptoKdf,
  type RelayAeadFactory,
  type RelayKdf,
  type RelayKeyPair,
} from './link/relay-crypto.js';
import { PATH_POLICIES, type PathPolicy } from './mesh/paths.js';
import { rehearseMessaging } from './rehearsal.js';
import { SignalingClient } from './signaling/SignalingClient.js';
import type { SignalingTransport } from './signaling/socket.js';
import { TypedEmitter } from './util/TypedEmitter.js';
import { adaptWebRTC } from './link/webrtc.js';
import { LocalParticipant, checkAttributes } from './LocalParticipant.js';
import type { Logger } from './logger.js';
import { withContext } from './logger.js';
import type { MessagingClient } from './MessagingClient.js';
import { createMessagingStack, type MessagingStackDeps } from './messaging-stack.js';
import { MAX_NAME_LENGTH, SIGNALING_VERSION } from './protocol/signaling.js';
import { isWellFormedText, type JsonObject } from './protocol/json.js';
import { isRecord } from './protocol/signaling-guards.js';
import { MAX_TIMER_MS } from './util/schedule.js';
import type { MessageMap, MessageMapOf } from './types.js';

/** What {@link Room.connect} builds a room from. @internal */
interface RoomInit {
  name: string;
  signaling: SignalingClient;
  self: { id: string; name: string; joinedAtMs: number };
  attributes: JsonObject;
  deps: MessagingStackDeps & {
    /**
     * What every log line of this room carries: the room and this participant's id as `self` (`participant`
     * in a line names the other participant it is about); `self` follows a re-join.
     */
    logContext: { room: string; self?: string };
  };
}

/**
 * A room joined through a signaling server: this participant, and messaging with the others on
 * {@link Room.messaging}. Create one with {@link Room.connect}. `M` and `R` type the messages and the
 * replies by `type` (see {@link MessageMap}); untyped, any type carries any JSON object.
 */
export class Room<
  M extends MessageMapOf<M> = MessageMap,
  R extends MessageMapOf<R> = MessageMap,
> extends TypedEmitter<RoomEvents> {
  /**
   * The WebRTC implementation used when the options name none; undefined means the platform's own
   * (browsers). The Node entry's Room sets node-datachannel here.
   * @internal
   */
  protected static defaultWebRTC: (() => WebRTCImplementation) | undefined = undefined;

  /**
   * The AES-GCM relayed links seal with: WebCrypto's in browsers; the Node entry's Room sets node:crypto's,
   * synchronous (the same cipher and keys, so the two interoperate).
   * @internal
   */
  protected static relayAead: RelayAeadFactory = webCryptoAead;
  /** How relayed links derive their keys: WebCrypto here, node:crypto in the Node entry. @internal */
  protected static relayKdf: RelayKdf = webCryptoKdf;
  /** The signaling websocket's transport: engine.io's here; the Node entry's sends its frames unmasked. @internal */
  protected static signalingTransport: SignalingTransport = 'websocket';

  /** The room's name. */
  readonly name: string;
  /** This participant. */
  readonly localParticipant: LocalParticipant;
  /** Messaging with the other participants. */
  readonly messaging: MessagingClient<M, R>;
  readonly #signaling: SignalingClient;
  readonly #logger: Logger;
  #state: 'connected' | 'disconnecting' | 'disconnected' = 'connected';
  /** The goodbyes of a {@link disconnect} under way, or done. */
  #leaving: Promise<void> | undefined;

  /**
   * Connects to a signaling server and joins a room. Type arguments, optional, declare the app's messages
   * and replies: `Room.connect<Msgs, Replies>(…)`.
   * @example
   * const room = await Room.connect({ url: 'http://127.0.0.1:8080', room: 'design-review', name: 'alice' });
   * await room.messaging.enable();
   */
  static async connect<M extends MessageMapOf<M> = MessageMap, R extends MessageMapOf<R> = MessageMap>(
    options: RoomOptions,
  ): Promise<Room<M, R>> {
    const { timeouts, attributes, logger, maxAttachmentBytes, receiveLimits, paths } = checkRoomOptions(options);
    const relayKeys = paths === 'direct' ? undefined : await relayKeyPair(logger, this.relayKdf);
    // Messaging over the relay, run once in memory while the network is awaited below: see rehearsal.ts.
    const rehearsal =
      relayKeys === undefined
        ? Promise.resolve(false)
        : rehearseMessaging({ keys: relayKeys, aead: this.relayAead, kdf: this.relayKdf, logger });
    // The messaging client exists only once the room does; until then there is nothing to resume.
    let messaging: MessagingClient | undefined;
    // Read at every line: `self` is set once joined, and follows a re-join under a new id.
    const logContext: { room: string; self?: string } = { room: options.room };
    const roomLogger = withContext(logger, logContext);
    const signaling = await SignalingClient.connect(options.url, {
      timeoutMs: timeouts.signalingTimeoutMs,
      reconnectMaxDelayMs: timeouts.reconnectMaxDelayMs,
      messagingEnabled: () => messaging?.wantsEnabled ?? false,
      logger: roomLogger,
      transport: this.signalingTransport,
    });
    try {
      const joinReq = {
        v: SIGNALING_VERSION,
        room: options.room,
        name: options.name,
        ...(relayKeys === undefined ? {} : { relayKey: relayKeys.publicKey }),
      };
      const reply = await signaling.join(options.token === undefined ? joinReq : { ...joinReq, token: options.token });
      await rehearsal;
      const wrtcSource = options.wrtc ?? this.defaultWebRTC?.();
      const rtcConfig = { ...options.rtcConfig, iceServers: options.iceServers ?? reply.iceServers ?? [] };
      const deps = {
        paths,
        relayKeys,
        relayAead: this.relayAead,
        relayKdf: this.relayKdf,
        wrtc: wrtcSource === undefined ? undefined : adaptWebRTC(wrtcSource),
        rtcConfig,
        timeouts,
        maxAttachmentBytes,
        receiveLimits,
        logContext,
        logger: roomLogger,
      };
      logContext.self = reply.self.id;
      const init: RoomInit = { name: options.room, signaling, self: reply.self, attributes, deps };
      const room = new this(init as never) as unknown as Room<M, R>;
      messaging = room.messaging as unknown as MessagingClient;
      return room;
    } catch (err) {
      signaling.close();
      throw err;
    }
  }

  /**
   * Rooms come from {@link Room.connect}. Protected (the Node entry's Room extends this one) and typed
   * `never`, so that the published declarations show a constructor no app can call; the argument is a
   * {@link RoomInit}.
   */
  protected constructor(init: never) {
    super(ROOM_EVENT_NAMES);
    const { name, signaling, self, attributes, deps } = init as RoomInit;
    this.name = name;
    this.#signaling = signaling;
    this.#logger = deps.logger;
    this.emitterLogger = deps.logger;
    this.localParticipant = LocalParticipant.create(self, attributes, (attrs) =>
      this.messaging.handleLocalAttributes(attrs),
    );
    const { mesh, messaging } = createMessagingStack({
      localId: () => this.localParticipant.id,
      localAttributes: () => this.localParticipant.attributes,
      signaling,
      deps,
    });
    // The maps are types only: one client serves them all.
    this.messaging = messaging as unknown as MessagingClient<M, R>;
    signaling.on('peer_enabled', (p) => mesh.handlePeerEnabled(p));
    signaling.on('peer_disabled', (id) => mesh.handlePeerDisabled(id));
    signaling.on('peer_disconnected', (id, processDied) => mesh.handlePeerDisconnected(id, processDied));
    signaling.on('signal', (s) => mesh.handleSignal(s));
    signaling.on('signal_refused', (id) => mesh.handleSignalRefused(id));
    signaling.on('relay', (from, data) => mesh.handleRelay(from, data));
    signaling.on('relay_refused', (refusal) => mesh.handleRelayRefused(refusal));
    signaling.on('disconnected', (reason) => {
      this.#logger.warn({ reason }, 'lost the signaling server; open channels keep working; reconnecting');
      mesh.handleSignalingLost();
      this.emit('signaling_disconnected', reason);
    });
    signaling.on('resumed', (participants) => {
      this.#logger.info({}, 'back on the signaling server');
      mesh.handleResumed(participants);
      this.emit('signaling_reconnected');
    });
    signaling.on('rejoined', (self, previousId) => {
      this.#logger.warn({ id: self.id, previousId }, 'the signaling server forgot this participant: joined it again');
      this.localParticipant.rename(self.id);
      deps.logContext.self = self.id;
      void mesh.handleRejoined(self.id);
      this.emit('signaling_rejoined', self.id, previousId);
    });
    signaling.on('failed', (error) => {
      mesh.handleSignalingFailed();
      this.#logger.error(
        { reason: error.serverReason ?? error.reason },
        'the signaling server will not take this participant back',
      );
      this.emit('signaling_failed', error);
    });
    this.#leaveWithPage();
    this.#logger.info({ name: self.name }, 'joined room');
  }

  /**
   * In a page: when it closes or navigates away, tells the server at once that this participant left. A
   * page that called disconnect() then was gone before its goodbyes were through and the server heard of it,
   * so the server held the participant for its resume grace (15 s) as if its connection had dropped.
   */
  #leaveWithPage(): void {
    if (typeof addEventListener !== 'function' || typeof document === 'undefined') return;
    const onPageHide = (event: PageTransitionEvent): void => {
      // Kept in the back/forward cache, the page may come back: nothing to do yet.
      if (event.persisted || this.#state === 'disconnected') return;
      this.#signaling.close(); // the server takes a client's own disconnect as its goodbye
      void this.disconnect();
    };
    addEventListener('pagehide', onPageHide);
    this.once('disconnected', () => removeEventListener('pagehide', onPageHide));
  }

  /** True while connected to the signaling server (false while it reconnects). */
  get isSignalingConnected(): boolean {
    return this.#signaling.connected;
  }

  /**
   * Leaves the room: disables messaging (others see this participant removed), closes every channel and
   * the signaling connection. Nothing is left running; a Node process can exit at once.
   */
  disconnect(): Promise<void> {
    // A second call while the first says its goodbyes gets the first's promise: awaiting it and then
    // exiting must not cut them short.
    if (this.#state !== 'connected') return this.#leaving ?? Promise.resolve();
    this.#state = 'disconnecting';
    this.localParticipant.leave();
    this.#leaving = (async () => {
      try {
        await this.messaging.leave();
      } finally {
        this.#signaling.close();
        this.#state = 'disconnected';
        this.#logger.info({}, 'left room');
        this.emit('disconnected');
      }
    })();
    return this.#leaving;
  }
}

/**
 * This participant's relay key pair, made by `kdf` (in the form it derives from fastest), or undefined (and a
 * warning) where WebCrypto is missing (an insecure browser context).
 */
async function relayKeyPair(logger: Logger, kdf: RelayKdf): Promise<RelayKeyPair | undefined> {
  try {
    return await kdf.generateKeyPair();
  } catch (err) {
    logger.warn({ err: String(err) }, 'no WebCrypto here (an insecure context?): this participant cannot be relayed');
    return undefined;
  }
}

interface CheckedRoomOptions {
  paths: PathPolicy;
  timeouts: RoomTimeouts;
  attributes: ReturnType<typeof checkAttributes>;
  maxAttachmentBytes: number;
  receiveLimits: ReceiveLimits;
  logger: Logger;
}

/**
 * Throws unless `url` is an http(s) or ws(s) URL (in a page, relative to it): a typo would otherwise show as
 * an unreachable server.
 */
function checkServerUrl(url: string): void {
  const base = typeof location === 'undefined' ? undefined : location.href;
  let parsed: URL;
  try {
    parsed = new URL(url, base);
  } catch {
    throw new InvalidArgumentError(`Room.connect: url "${url}" is not a URL (e.g. https://signal.example.com)`);
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(parsed.protocol))
    throw new InvalidArgumentError(`Room.connect: url "${url}" must be http(s) or ws(s), not ${parsed.protocol}`);
}

/** Throws when `given` (an object, if given) has a key that `known` lacks. */
function checkKnownKeys(given: unknown, known: object, what: string): void {
  if (given === undefined) return;
  if (typeof given !== 'object' || given === null || Array.isArray(given))
    throw new InvalidArgumentError(`Room.connect: ${what} must be an object`);
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(known, key))
      throw new InvalidArgumentError(
        `Room.connect: ${what === '' ? '' : `${what}.`}${key} is not an option; the options are ${Object.keys(known).join(', ')}`,
      );
  }
}

/** `defaults` with the keys of `given` that are not undefined: an option left undefined keeps its default, as at the top level. */
function withDefaults<T extends object>(defaults: T, given: Partial<T> | undefined): T {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(given ?? {})) if (value !== undefined) out[key] = value;
  return out as T;
}

/** Checks `iceServers` as RTCPeerConnection reads them: a bad entry left a pair that never connects, silently. */
function checkIceServers(servers: unknown): void {
  if (!Array.isArray(servers)) throw new InvalidArgumentError('Room.connect: iceServers must be an array');
  servers.forEach((server: unknown, i) => {
    const what = `Room.connect: iceServers[${i}]`;
    if (!isRecord(server)) throw new InvalidArgumentError(`${what} must be an object { urls, username?, credential? }`);
    const urls = server.urls;
    const list = Array.isArray(urls) ? urls : [urls];
    if (list.length === 0 || !list.every((u) => typeof u === 'string' && /^(stuns?|turns?):/.test(u)))
      throw new InvalidArgumentError(`${what}.urls must be a stun:, stuns:, turn: or turns: URL, or a list of them`);
    for (const key of ['username', 'credential'] as const)
      if (server[key] !== undefined && typeof server[key] !== 'string')
        throw new InvalidArgumentError(`${what}.${key} must be a string`);
  });
}

/** Checks a `wrtc`-shaped implementation: its three classes. */
function checkWebRTC(wrtc: unknown): void {
  const ok =
    isRecord(wrtc) || typeof wrtc === 'function'
      ? (['RTCPeerConnection', 'RTCSessionDescription', 'RTCIceCandidate'] as const).every(
          (k) => typeof (wrtc as Record<string, unknown>)[k] === 'function',
        )
      : false;
  if (!ok)
    throw new InvalidArgumentError(
      'Room.connect: wrtc must be a WebRTC implementation with RTCPeerConnection, RTCSessionDescription and RTCIceCandidate',
    );
}

/** Checks a logger: one without a method failed later, inside a data channel's callback (a crash in Node). */
function checkLogger(logger: unknown): void {
  const ok =
    isRecord(logger) && (['debug', 'info', 'warn', 'error'] as const).every((k) => typeof logger[k] === 'function');
  if (!ok)
    throw new InvalidArgumentError('Room.connect: logger must have debug, info, warn and error methods (pino fits)');
}

function checkRoomOptions(options: RoomOptions): CheckedRoomOptions {
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError('Room.connect: expected an options object');
  // A misspelt key (`iceServer`) would otherwise leave its default in force, unnoticed.
  checkKnownKeys(options, ROOM_OPTION_NAMES, '');
  for (const key of ['url', 'room', 'name'] as const) {
    if (typeof options[key] !== 'string' || options[key].trim().length === 0) {
      throw new InvalidArgumentError(`Room.connect: ${key} must be a non-empty string`);
    }
  }
  checkServerUrl(options.url);
  // The server refuses these (BadRequest): said here, before connecting.
  for (const key of ['room', 'name'] as const) {
    // Counted as the server and every other client count it: UTF-16 code units (see MAX_NAME_LENGTH).
    const units = options[key].length;
    if (units > MAX_NAME_LENGTH)
      throw new InvalidArgumentError(
        `Room.connect: ${key} is ${units} UTF-16 code units long (its JavaScript length); the most is ${MAX_NAME_LENGTH}`,
      );
    if (!isWellFormedText(options[key]))
      throw new InvalidArgumentError(`Room.connect: ${key} has an unpaired surrogate (not well-formed Unicode)`);
  }
  if (options.token !== undefined && typeof options.token !== 'string')
    throw new InvalidArgumentError('Room.connect: token must be a string');
  if (options.iceServers !== undefined) checkIceServers(options.iceServers);
  if (options.rtcConfig !== undefined && !isRecord(options.rtcConfig))
    throw new InvalidArgumentError('Room.connect: rtcConfig must be an object');
  if (options.wrtc !== undefined) checkWebRTC(options.wrtc);
  if (options.logger !== undefined) checkLogger(options.logger);
  // A misspelt key (`ackTimeoutMS`) would otherwise leave its default in force, unnoticed.
  checkKnownKeys(options.timeouts, DEFAULT_TIMEOUTS, 'timeouts');
  checkKnownKeys(options.receiveLimits, DEFAULT_RECEIVE_LIMITS, 'receiveLimits');
  const timeouts: RoomTimeouts = withDefaults(DEFAULT_TIMEOUTS, options.timeouts);
  for (const [key, value] of Object.entries(timeouts)) {
    // Timers take at most 2^31 - 1 ms; a longer one fires at once (a 3e9 ms signaling timeout failed in 5 ms).
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > MAX_TIMER_MS) {
      throw new InvalidArgumentError(`Room.connect: timeouts.${key} must be from 1 to ${MAX_TIMER_MS} milliseconds`);
    }
  }
  if (timeouts.heartbeatTimeoutMs <= timeouts.heartbeatIntervalMs) {
    throw new InvalidArgumentError(
      'Room.connect: timeouts.heartbeatTimeoutMs must be longer than timeouts.heartbeatIntervalMs',
    );
  }
  const attributes = checkAttributes(options.attributes ?? DEFAULT_ROOM_OPTIONS.attributes, 'Room.connect:');
  const maxAttachmentBytes = options.maxAttachmentBytes ?? DEFAULT_ROOM_OPTIONS.maxAttachmentBytes;
  if (
    !Number.isSafeInteger(maxAttachmentBytes) ||
    maxAttachmentBytes < 0 ||
    maxAttachmentBytes > MAX_ATTACHMENT_BYTES_LIMIT
  ) {
    throw new InvalidArgumentError(
      `Room.connect: maxAttachmentBytes must be an integer from 0 to ${MAX_ATTACHMENT_BYTES_LIMIT}`,
    );
  }
  const receiveLimits: ReceiveLimits = withDefaults(DEFAULT_RECEIVE_LIMITS, options.receiveLimits);
  for (const [key, value] of Object.entries(receiveLimits)) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
      throw new InvalidArgumentError(`Room.connect: receiveLimits.${key} must be a positive integer`);
    }
  }
  const paths = options.paths ?? DEFAULT_ROOM_OPTIONS.paths;
  if (!PATH_POLICIES.includes(paths))
    throw new InvalidArgumentError(`Room.connect: paths must be one of ${PATH_POLICIES.join(', ')}`);
  return {
    paths,
    timeouts,
    attributes,
    maxAttachmentBytes,
    receiveLimits,
    logger: options.logger ?? DEFAULT_ROOM_OPTIONS.logger,
  };
}
