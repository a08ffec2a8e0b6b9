import type { RoomTimeouts } from '../defaults.js';
import { MessagingError, ProtocolError } from '../errors.js';
import type { Link } from '../link/Link.js';
import type { Logger } from '../logger.js';
import type { Frame, FrameDecodeError, FrameOf } from '../protocol/frames.js';
import { FrameKind, MAX_PROTOCOL_ERRORS, encodeFrame, type MessageBody, isFrameError } from '../protocol/frames.js';
import type { JsonObject } from '../protocol/json.js';
import type { ParticipantInfo } from '../protocol/signaling.js';
import { randomSessionTag } from '../util/random-id.js';
import { unrefTimer } from '../util/schedule.js';
import { TypedEmitter } from '../util/TypedEmitter.js';
import { Heartbeat } from './Heartbeat.js';
import { peerShare } from './Inbox.js';
import { LinkSet } from './LinkSet.js';
import { checkMessage } from './message-plan.js';
import type { ProgressCallback } from './Outbox.js';
import { ReceiveBudget } from './ReceiveBudget.js';
import { Receiver } from './Receiver.js';
import { type HelloContent, Sender } from './Sender.js';
import type { PeerLimits, SessionEvents, SessionOptions } from './session-types.js';

/** The limits a peer's hello announces (`maxHeldBytes` only when it has one: older peers send none). */
function peerLimitsOf(hello: FrameOf<typeof FrameKind.Hello>): PeerLimits {
  const limits: PeerLimits = { maxAttachmentBytes: hello.maxAttachmentBytes, maxFrameBytes: hello.maxFrameBytes };
  if (hello.maxHeldBytes !== undefined) limits.maxHeldBytes = hello.maxHeldBytes;
  return limits;
}

/**
 * The messaging protocol with one remote participant: hello, numbered messages (whole, or a start frame and
 * chunks), cumulative acknowledgements, attribute updates, heartbeat and goodbye, over one {@link Link} at a
 * time among those attached ({@link addLink}), moving between them without losing, repeating or reordering
 * a message. Sending is done by a {@link Sender}, receiving by a {@link Receiver}, the links kept by a
 * {@link LinkSet}.
 * @internal
 */
export class Session extends TypedEmitter<SessionEvents> {
  #participant: ParticipantInfo;
  /** Connection id: tells this session from the participant's others (message ids are made from it). */
  readonly cid: string;
  readonly #links: LinkSet;
  readonly #timeouts: RoomTimeouts;
  readonly #maxAttachmentBytes: number;
  /** What this side holds of one peer's incomplete attachments at most, told in the hello. */
  readonly #maxHeldBytes: number;
  readonly #localAttributes: () => JsonObject;
  /** The attributes in the hello this side sent last. */
  #helloAttributes: JsonObject | undefined;
  readonly #logger: Logger;
  readonly #sender: Sender;
  readonly #receiver: Receiver;
  #peerLimits: PeerLimits | undefined;
  #closed = false;
  #byeReceived = false;
  /** True once the hello left and the heartbeat runs (the first link opened). */
  #started = false;
  /**
   * The peer has shown that it has this side's hello: it sent a frame only a side that has it sends (an ack,
   * a message, attributes). Until then every move sends the hello again, ahead of anything else: the peer
   * may have set up the new link before the hello reached it, or lost it with the old link, or it may be a
   * new session of the peer's (see {@link #onFrame}).
   */
  #peerHasHello = false;
  /** Moves between links so far: after one, a second hello is the peer repeating it, not an error. */
  #moves = 0;
  /** This side's session tag, in every hello it sends: random, so a peer tells this session from a later one. */
  readonly #tag = randomSessionTag();
  /** The peer's session tag, from its first hello (undefined from a peer that sends none). */
  #peerTag: number | undefined;
  #protocolErrors = 0;
  /** When the current link became current (Date.now()). */
  #linkSinceMs = Date.now();
  /** The outbox's message frames written at the last tick that saw them move, and when (see #closeIfStuck). */
  #messageFramesSeen = 0;
  #messagesMovedAtMs = Date.now();
  /** A ping of this side is queued and not written yet: another would only wait behind it. */
  #pingQueued = false;
  /** The peer is in a session this side does not have (see {@link #notOurs}): nothing from it is read. */
  #foreign = false;
  /** What the peer may cost this side to receive. */
  readonly #budget: ReceiveBudget;
  readonly #heartbeat: Heartbeat;

  constructor(options: SessionOptions) {
    super();
    this.#participant = options.participant;
    this.cid = options.cid;
    this.#timeouts = options.timeouts;
    this.#maxAttachmentBytes = options.maxAttachmentBytes;
    this.#maxHeldBytes = peerShare(options.attachmentBudget.maxBytes, options.maxAttachmentBytes);
    this.#localAttributes = options.localAttributes;
    this.#logger = options.logger;
    this.emitterLogger = options.logger;
    this.#budget =
      options.receiveBudgets?.for(options.participant.id, Date.now()) ??
      new ReceiveBudget({ bytes: options.receiveRate, decode: options.decodeBudget }, Date.now());
    this.#links = new LinkSet(options.link, options.relinkGraceMs ?? 0, {
      opened: () => this.#onOpened(),
      switched: (link) => this.#onSwitched(link),
      followed: () => this.#repeat(this.#started && !this.#peerHasHello),
      data: (bytes, current) => this.#onData(bytes, current),
      writable: () => this.#sender.outbox.pump(),
      unlinked: (reason) => {
        this.#heartbeat.paused = true;
        // Saying goodbye, the last link closing is the peer's receipt of the bye: the session closes next.
        if (!this.#sender.byeSent) this.emit('unlinked', reason);
      },
      lost: (reason) => this.close(reason),
    });
    this.#sender = new Sender(this.#links, {
      participantId: () => this.#participant.id,
      ackTimeoutMs: options.timeouts.ackTimeoutMs,
      // An acknowledgement due anyway rides along with this message (same data-channel message), rather
      // than in one of its own a moment later: a reply to a request costs one message, not two.
      beforeMessage: () => {
        if (this.#receiver.ackScheduled) this.#receiver.pushAck();
      },
      logger: options.logger,
    });
    this.#receiver = new Receiver(options.maxAttachmentBytes, options.attachmentBudget, this.#sender.outbox, {
      emit: (event, ...args) => this.emit(event, ...args),
      protocolError: (reason, detail, counted) => this.#protocolError(reason, detail, counted),
      isClosed: () => this.#closed,
    });
    this.#heartbeat = new Heartbeat(options.timeouts, {
      silent: (reason) => this.#onSilent(reason),
      lastSentAtMs: () => this.#sender.lastSentAtMs,
      awaitingHello: () => this.#peerLimits === undefined,
      ping: () => this.#queuePing(),
      tick: (nowMs, stalled) => {
        if (!stalled) this.#receiver.stalled(nowMs, this.#timeouts.attachmentStallTimeoutMs);
        this.#sender.expire(nowMs);
        if (!stalled) this.#closeIfStuck(nowMs);
        if (!stalled) this.#closeIfNotAcknowledging(nowMs);
      },
    });
    this.#links.add(options.link, options.linkRank ?? 0);
  }

  /** The participant at the other end, under its current id. */
  get participant(): ParticipantInfo {
    return this.#participant;
  }

  /** The peer moved to participant id `id` (its moved frame, accepted by the owner): this session is its. */
  rename(id: string): void {
    this.#participant = { ...this.#participant, id };
    this.#sender.sizes.participantId = id;
  }

  /**
   * Tells the peer that this side now has participant id `id` on the signaling server, with `proof` that it
   * holds its relay key (see `movedProof`) when it has one.
   */
  sendMoved(id: string, proof?: Uint8Array): void {
    if (this.isReady) this.#sender.sendMoved(id, proof);
  }

  /** The link this session writes to now (the current one of those attached). */
  get link(): Link {
    return this.#links.current;
  }

  /**
   * Attaches another link to the same peer; the ones attached stay. The session listens to it at once, and
   * moves to it when it opens or when data arrives on it (the peer moved first), if it is preferred: of a
   * higher `rank` than the current link, or of the same rank and newer. Writes go to it from then on, what
   * was not acknowledged is sent again on it, and data arriving later on other links is ignored (though it
   * still shows the peer is alive). A link added to a closed session is closed.
   * @example
   * session.on('linked', (link) => log.info({ relayed: link instanceof RelayLink }, 'moved'));
   * session.addLink(directLink, 1); // preferred over the relayed link, of rank 0
   */
  addLink(link: Link, rank = 0): void {
    if (this.#closed) {
      link.close('the session is closed');
      return;
    }
    this.#links.add(link, rank);
  }

  /** False while the session has no open link and waits for one (its relink grace). */
  get isLinked(): boolean {
    return this.#links.linked;
  }

  /**
   * While held, the session outlives its links: a silent peer closes the current link, not the session,
   * and with no link open it waits without counting the relink grace. For a pair whose only path goes
   * through the signaling server, where the server, not silence, says when the peer is gone. Released
   * while no link is open, the relink grace starts then.
   */
  get held(): boolean {
    return this.#links.held;
  }

  set held(held: boolean) {
    // Released: the silence the hold covered was the path's (the peer off the server), not the peer's, and is
    // judged afresh from now. Else a peer back a moment before heartbeatTimeoutMs of it had ended was taken
    // for gone before its new link could open (the chaos soak saw this when a drained process's participant
    // came back 5.0 s after its last frame).
    if (this.#links.held && !held) this.#heartbeat.forgive(Date.now());
    this.#links.held = held;
  }

  /** True once the peer's hello arrived and until the session closes. */
  get isReady(): boolean {
    return this.#peerLimits !== undefined && !this.#closed;
  }

  /** What the peer accepts; undefined until its hello arrived. */
  get peerLimits(): PeerLimits | undefined {
    return this.#peerLimits;
  }

  /** Bytes held for attachments still arriving from the peer. */
  get incomingHeldBytes(): number {
    return this.#receiver.heldBytes;
  }

  /** Messages sent and held until the peer acknowledges them (to send again on another link). */
  get heldMessages(): number {
    return this.#sender.outbox.heldCount;
  }

  /**
   * Throws {@link MessagingError} `MessageTooLarge` when this message cannot go on this link: its
   * attachment is above the peer's limit, or its JSON does not fit one frame.
   */
  check(body: MessageBody, attachment: Uint8Array | undefined): void {
    checkMessage(body, attachment, this.#sender.sizes);
  }

  /**
   * Sends a message. With `ack`, the promise resolves when the peer has the whole message and rejects when
   * the peer leaves, refuses it, the acknowledgement times out, or `signal` aborts. Throws
   * {@link MessagingError} `MessageTooLarge` before sending anything when it cannot be sent.
   */
  sendMessage(
    body: MessageBody,
    attachment: Uint8Array | undefined,
    ack: true,
    onProgress?: ProgressCallback,
    signal?: AbortSignal,
  ): Promise<void>;
  sendMessage(
    body: MessageBody,
    attachment: Uint8Array | undefined,
    ack: false,
    onProgress?: ProgressCallback,
  ): boolean;
  sendMessage(
    body: MessageBody,
    attachment: Uint8Array | undefined,
    ack: boolean,
    onProgress?: ProgressCallback,
    signal?: AbortSignal,
  ): Promise<void> | boolean {
    if (!this.isReady) {
      if (!ack) return false;
      return Promise.reject(MessagingError.participantLeft(this.participant.id));
    }
    return this.#sender.send(body, attachment, ack, onProgress, signal);
  }

  /** Counts, as the session's own, a bad frame seen above or below it (a reply to no request; a relayed frame that did not open). */
  reportProtocolError(detail: string, reason: 'BadFrame' | 'UnexpectedFrame' = 'UnexpectedFrame'): void {
    if (!this.#closed) this.#protocolError(reason, detail);
  }

  /** Tells the peer this side's new attributes. */
  sendAttributes(attributes: JsonObject): void {
    if (this.isReady) this.#sender.outbox.pushControl(encodeFrame({ kind: FrameKind.Attributes, attributes }));
  }

  /**
   * Says goodbye and closes: first acknowledges what arrived (so the peer's last sends resolve), lets
   * queued messages leave and waits for their acknowledgements (up to a second; what is still unanswered
   * then rejects with `ParticipantLeft`), then sends bye and lets it leave.
   */
  async closeGracefully(): Promise<void> {
    if (this.#closed) return;
    if (this.link.isOpen)
      await this.#sender.goodbye(
        () => this.link,
        () => this.#receiver.pushAck(),
        () => this.#closed,
      );
    this.close('closed locally');
  }

  /**
   * Closes unless a frame arrives within `withinMs`: for when there is reason to doubt the peer (its
   * signaling connection dropped). A live peer sends at least a ping every heartbeat interval.
   */
  probe(withinMs: number): void {
    if (!this.#closed) this.#heartbeat.probe(withinMs);
  }

  /**
   * Closes in `ms` unless the session has closed by then (the peer's goodbye arrived); at once when no link
   * is open or once none is, for then no goodbye can arrive.
   */
  closeWithin(ms: number, reason: string): void {
    if (this.#closed) return;
    if (!this.isLinked) {
      this.close(reason);
      return;
    }
    const timer = setTimeout(() => this.close(reason), ms);
    unrefTimer(timer);
    const unlinked = (): void => this.close(reason);
    this.once('unlinked', unlinked);
    this.once('close', () => {
      clearTimeout(timer);
      this.off('unlinked', unlinked);
    });
  }

  /** Closes at once, and every attached link. Unacknowledged sends reject with `ParticipantLeft`. */
  close(reason: string): void {
    if (this.#closed) return;
    this.#links.closeAll(reason);
    this.#onClose(reason);
  }

  /**
   * Queues a ping unless one is queued already and not yet written. A ping is answered (see
   * Heartbeat.pinged) whenever this side has written nothing for an interval, and nothing is written while
   * the link takes nothing: a peer that granted no credit on a relayed link and sent pings by the thousand
   * (three bytes each) had each answer queued, without bound (found by a review: over 100 MB a second).
   */
  #queuePing(): void {
    if (this.#pingQueued) return;
    this.#pingQueued = true;
    this.#sender.outbox.pushControl(() => {
      this.#pingQueued = false;
      return encodeFrame({ kind: FrameKind.Ping });
    });
  }

  /**
   * Closes the current link when it has taken nothing for `ackTimeoutMs` while frames wait for it (a
   * relayed link whose peer grants no credit any more, a channel that stopped draining), or when it took no
   * message frame for that long while messages wait: a peer that grants just enough credit for a ping now
   * and then keeps a link taking bytes, and every message behind would wait for good (found by a review).
   * A send's acknowledgement deadline starts only once its last frame is written, so without this what waits
   * would never settle. The session then moves to another link (and sends it all again there), or ends
   * after the relink grace, rejecting what waits; what waited gets its deadline at the close, so a peer that
   * stalls each new link too has it rejected `Timeout`. A healthy idle link writes a ping every interval.
   */
  #closeIfStuck(nowMs: number): void {
    const link = this.#links.current;
    const { outbox } = this.#sender;
    const { ackTimeoutMs } = this.#timeouts;
    const written = outbox.messageFramesWritten;
    if (written !== this.#messageFramesSeen || !outbox.messagesWaiting) {
      this.#messageFramesSeen = written;
      this.#messagesMovedAtMs = nowMs;
    }
    if (!link.isOpen || outbox.isEmpty) return;
    const noBytes = nowMs - this.#sender.lastSentAtMs >= ackTimeoutMs;
    const noMessages = nowMs - Math.max(this.#messagesMovedAtMs, this.#linkSinceMs) >= ackTimeoutMs;
    if (!noBytes && !noMessages) return;
    const what = noBytes ? 'no bytes' : 'no message frame';
    this.#logger.warn({ participant: this.participant.id, ackTimeoutMs }, `a link took ${what}: closing it`);
    // What waited gets its deadline now: a peer that stalls each new link too does not hold it for good.
    this.#sender.startDeadlines(nowMs);
    link.close(`took ${what} for ${ackTimeoutMs} ms`);
  }

  /**
   * Closes the session when the peer is behind on its acknowledgements (see `UNACKNOWLEDGED_BEHIND`) and the
   * oldest message it has not acknowledged was written over `heartbeatTimeoutMs` ago (or, when later, the
   * current link came: a peer is given that long on a new link), while it is heard from over an open link:
   * it reads what it is sent and does not acknowledge it, and everything sent to it (the reply to each of its
   * requests too) would be held for good. The oldest message's age, not the time behind: a peer that
   * acknowledged all but a few now and then was otherwise never behind for long (found by a review written
   * as a hostile peer). A peer that went silent is the heartbeat's business; a link that takes no bytes,
   * #closeIfStuck's.
   */
  #closeIfNotAcknowledging(nowMs: number): void {
    const { outbox } = this.#sender;
    if (!outbox.behind || !this.#links.current.isOpen) return;
    const oldest = outbox.oldestUnacknowledgedAtMs;
    const { heartbeatTimeoutMs } = this.#timeouts;
    if (oldest === undefined || nowMs - Math.max(oldest, this.#linkSinceMs) < heartbeatTimeoutMs) return;
    if (nowMs - this.#heartbeat.lastReceivedAtMs > heartbeatTimeoutMs) return;
    const detail = `${outbox.unacknowledged} messages (${outbox.unacknowledgedBytes} bytes) not acknowledged, the oldest for ${nowMs - oldest} ms; disconnecting`;
    this.#logger.warn({ participant: this.participant.id, detail }, 'the peer acknowledges nothing it is sent');
    this.emit('protocol_error', new ProtocolError('LimitExceeded', this.participant.id, detail));
    this.close('the peer acknowledges nothing it is sent');
  }

  /** The peer sent nothing for too long (or did not answer a probe). */
  #onSilent(reason: string): void {
    const link = this.#links.current;
    if (this.#links.held && link.isOpen) {
      // The path is down, not necessarily the peer: the link goes, the session waits for another.
      this.#logger.debug({ participant: this.participant.id, reason }, 'closing a silent link');
      link.close(`silent: ${reason}`);
      return;
    }
    if (!this.#links.held) this.close(reason);
  }

  /** The first link opened (hello, heartbeat), or the current one opened after data came on it first. */
  #onOpened(): void {
    if (this.#started) {
      this.#sender.outbox.pump();
      return;
    }
    this.#started = true;
    this.#pushHello();
    this.#heartbeat.start(Date.now());
  }

  #pushHello(): void {
    this.#sender.sendHello(this.#hello());
  }

  #hello(): HelloContent {
    this.#helloAttributes = this.#localAttributes();
    const hello: HelloContent = {
      attributes: this.#helloAttributes,
      maxAttachmentBytes: this.#maxAttachmentBytes,
      maxHeldBytes: this.#maxHeldBytes,
      session: this.#tag,
    };
    if (this.#peerTag !== undefined) hello.peer = this.#peerTag;
    return hello;
  }

  /**
   * Moved to `link`: what was not acknowledged goes again on it, and what may have been lost with the old
   * link: the peer's refusals, an ack, the attributes and the moved id; the hello when the peer may lack it.
   */
  #onSwitched(link: Link): void {
    // After the bye, the link it went on closing is the peer's receipt, not a reason to move.
    if (this.#closed || this.#sender.byeSent) return;
    this.#linkSinceMs = Date.now();
    const misfit = this.#sender.misfit(link);
    if (misfit !== undefined) {
      this.close(misfit);
      return;
    }
    this.#moves++;
    this.#sender.fitLink(link);
    this.#heartbeat.paused = false;
    this.#heartbeat.alive(Date.now());
    if (this.isReady) this.#receiver.park();
    if (!this.#started) {
      this.#repeat(false);
      if (link.isOpen) this.#onOpened();
    } else {
      this.#repeat(!this.#peerHasHello);
    }
    this.emit('linked', link);
  }

  /** Sends again what the peer may have missed: messages it did not acknowledge, refusals, an ack, attributes. */
  #repeat(withHello: boolean): void {
    this.#sender.rewind(this.isReady ? this.#localAttributes() : undefined, withHello ? this.#hello() : undefined);
    if (this.isReady) this.#receiver.repeat();
  }

  #onData(bytes: Uint8Array, current: boolean): void {
    if (this.#closed || this.#foreign) return;
    const now = Date.now();
    this.#heartbeat.alive(now);
    // A peer may flood valid messages faster than this side can take them: each is decoded and delivered
    // synchronously, and what the channel received meanwhile queues natively, without bound. Over its
    // budget (bytes, or time spent decoding), the peer is cut off. An older link's data is not decoded
    // (what it carried comes again on the current one), unless the peer's hello has not come yet: the
    // peer sends it once, on the link it had then.
    const frames = this.#budget.take(bytes, now, current || this.#peerLimits === undefined);
    if (typeof frames === 'string') {
      this.#protocolError('LimitExceeded', frames);
      this.close('over its receive budget');
      return;
    }
    for (const frame of frames) {
      if (this.#closed) return;
      if (current || (!isFrameError(frame) && frame.kind === FrameKind.Hello)) this.#onFrame(frame);
    }
  }

  #onFrame(frame: Frame | FrameDecodeError): void {
    if (isFrameError(frame)) {
      this.#protocolError('BadFrame', `${frame.error}: ${frame.detail}`);
      return;
    }
    if (this.#peerLimits === undefined && frame.kind !== FrameKind.Hello) {
      this.#beforeHello(frame.kind);
      return;
    }
    if (frame.kind !== FrameKind.Hello && frame.kind !== FrameKind.Ping && frame.kind !== FrameKind.Bye)
      this.#peerHasHello = true;
    let wrong: string | undefined;
    switch (frame.kind) {
      case FrameKind.Hello:
        if (frame.peer !== undefined && frame.peer !== this.#tag) {
          this.#notOurs('a hello of another session of this side');
          return;
        }
        // A hello that names this session's tag comes from a peer that has this side's hello.
        if (frame.peer !== undefined) this.#peerHasHello = true;
        this.#onHello(frame.attributes, peerLimitsOf(frame), frame.session);
        return;
      case FrameKind.Message:
      case FrameKind.Start:
      case FrameKind.Chunk:
      case FrameKind.Cancel:
        this.#receiver.onFrame(frame);
        return;
      case FrameKind.Ack:
        wrong = this.#sender.acknowledged(frame.seq, frame.incomplete);
        break;
      case FrameKind.Refuse:
        wrong = this.#sender.refused(frame.seq, frame.reason);
        break;
      case FrameKind.Attributes:
        this.emit('attributes', frame.attributes);
        return;
      case FrameKind.Bye:
        this.#byeReceived = true;
        this.close('peer said bye');
        return;
      case FrameKind.Ping:
        this.#heartbeat.pinged(Date.now());
        return;
      case FrameKind.Moved:
        this.emit('moved', frame.id, frame.proof);
        return;
    }
    if (wrong !== undefined) this.#protocolError('UnexpectedFrame', wrong);
  }

  /**
   * A frame other than hello came on the current link before the peer's hello. A peer sends its hello first
   * on every link until this side has shown it has it (see {@link #peerHasHello}), and this side shows that
   * only once ready: so the peer is in a session this side does not have. A ping is harmless and ignored.
   */
  #beforeHello(kind: FrameKind): void {
    if (kind !== FrameKind.Ping) this.#notOurs(`frame kind ${kind} before its hello`);
  }

  /**
   * The peer is in a session this side does not have: this side ended it (the peer went silent) and took
   * the peer's next link of it for a new session. This one never becomes ready, reads nothing more from the
   * peer, and counts no protocol error (the peer is not at fault): the peer ends its own session on this
   * side's hello, which carries a new tag, and dials again, which replaces this one (the mesh's connect
   * timeout ends it otherwise). It does not close at once, which could lose that hello with its link.
   */
  #notOurs(detail: string): void {
    this.#foreign = true;
    this.#logger.info(
      { participant: this.participant.id, detail },
      'the peer continues a session this side does not have: waiting for it to end',
    );
  }

  #onHello(attributes: JsonObject, limits: PeerLimits, tag: number | undefined): void {
    if (this.#peerLimits !== undefined) {
      if (tag !== undefined && this.#peerTag !== undefined && tag !== this.#peerTag) {
        // The peer ended this session (it gave up on a silent path while this side held on) and took this
        // link for a new one: nothing of this session reaches it any more. Ending it here too, and dialing
        // again, is how both sides agree again; otherwise this side writes into a session the peer does not have.
        this.#logger.info({ participant: this.participant.id }, 'the peer began a new session: ending this one');
        this.close('the peer ended this session');
        return;
      }
      // Sent again by a peer that moved before it knew this side had it (see #peerHasHello): on the new link,
      // or on an older one this side still reads.
      if (this.#moves > 0 || (tag !== undefined && tag === this.#peerTag)) return;
      this.#protocolError('UnexpectedFrame', 'second hello');
      return;
    }
    this.#sender.fitLink(this.link);
    this.#sender.applyPeerLimits(limits, this.link.maxMessageBytes);
    this.#peerLimits = limits;
    this.#peerTag = tag;
    // Attributes changed after this side's hello left and before the peer's came: the app's update went to
    // present participants only, and this one was not yet; it gets them now, after the hello it has.
    // Compared as JSON, once per session: at most 16 KB, and a caller may hand out a new object each time.
    const attributesNow = this.#localAttributes();
    if (
      attributesNow !== this.#helloAttributes &&
      JSON.stringify(attributesNow) !== JSON.stringify(this.#helloAttributes)
    )
      this.sendAttributes(attributesNow);
    this.emit('ready', attributes);
  }

  #protocolError(reason: 'BadFrame' | 'UnexpectedFrame' | 'LimitExceeded', message: string, counted = true): void {
    if (counted) this.#protocolErrors++;
    this.#logger.warn({ participant: this.participant.id, reason, detail: message }, 'refused a frame');
    this.emit('protocol_error', new ProtocolError(reason, this.participant.id, message));
    if (this.#protocolErrors === MAX_PROTOCOL_ERRORS) {
      this.emit(
        'protocol_error',
        new ProtocolError('TooManyErrors', this.participant.id, `${MAX_PROTOCOL_ERRORS} bad frames; disconnecting`),
      );
      this.close('too many protocol errors');
    }
  }

  #onClose(reason: string): void {
    this.#closed = true;
    this.#heartbeat.stop();
    this.#sender.close(MessagingError.participantLeft(this.participant.id));
    for (const t of this.#receiver.clear()) this.emit('aborted', t, 'ParticipantLeft');
    this.emit('close', reason, this.#byeReceived);
  }
}
