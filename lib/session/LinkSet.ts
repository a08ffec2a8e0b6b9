import type { Link, LinkEvents } from '../link/Link.js';
import { unrefTimer } from '../util/schedule.js';
import type { MessageSink } from './FrameBatch.js';

/** What a {@link LinkSet} tells its session. @internal */
export interface LinkSetHandlers {
  /** The current link opened. */
  opened(link: Link): void;
  /**
   * `link` became the current one (see {@link LinkSet}); it may not be open yet when data came first.
   * `back`: the current link closed and `link` is an older one.
   */
  switched(link: Link, back: boolean): void;
  /**
   * After falling back to an older link, the first data from the peer on it: the peer may have been on the
   * dead link until now, ignoring what this side sent on this one meanwhile.
   */
  followed(): void;
  /** Bytes arrived: on the current link (`current`), or on an older one, which only shows the peer is alive. */
  data(bytes: Uint8Array, current: boolean): void;
  /** The current link takes more. */
  writable(): void;
  /** The current link closed, and no attached link is open: the relink grace starts. */
  unlinked(reason: string): void;
  /** No link is open and none opened within the relink grace (at once when it is 0): the session is over. */
  lost(reason: string): void;
}

type Listeners = { [K in keyof LinkEvents]: LinkEvents[K] };

/**
 * The links one session runs on, and which of them is current: writes go to the current link only. A link
 * attached later is newer. The set moves to a newer link when it opens or when data arrives on it (the peer
 * moved first), and back to the newest open one when the current link closes. Links that closed are let go.
 * With none open, it waits `relinkGraceMs` for one before it reports the session's links lost.
 * @internal
 */
export class LinkSet implements MessageSink {
  /** The attached links still open or opening, oldest first. */
  #links: Link[] = [];
  /** Each link's rank: a link of a higher rank is preferred over any of a lower one, whatever their age. */
  readonly #ranks = new WeakMap<Link, number>();
  #current: Link;
  readonly #handlers: LinkSetHandlers;
  readonly #listeners = new Map<Link, Listeners>();
  readonly #relinkGraceMs: number;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** No link is open (since the current one closed): within the relink grace, or held. */
  #unlinked = false;
  /** Why the last current link closed, for the grace's report. */
  #unlinkedReason = '';
  /** While true, having no open link does not end the session (see {@link held}). */
  #held = false;
  /** Fell back to the current link, and the peer has not sent on it since. */
  #awaitingPeer = false;
  #closed = false;

  /** A set whose current link is `first`, not yet listened to: {@link add} it. */
  constructor(first: Link, relinkGraceMs: number, handlers: LinkSetHandlers) {
    this.#current = first;
    this.#relinkGraceMs = relinkGraceMs;
    this.#handlers = handlers;
  }

  /** False while no link is open, within the relink grace (or held). */
  get linked(): boolean {
    return !this.#unlinked;
  }

  /**
   * While held, having no open link does not end the session: the relink grace is not counted (someone
   * else, the signaling server, says when the peer is gone). Released while unlinked, the grace starts
   * anew.
   */
  get held(): boolean {
    return this.#held;
  }

  set held(held: boolean) {
    if (held === this.#held || this.#closed) return;
    this.#held = held;
    if (!this.#unlinked) return;
    if (held) {
      clearTimeout(this.#graceTimer);
      this.#graceTimer = undefined;
    } else {
      this.#startGrace();
    }
  }

  /** The link writes go to. */
  get current(): Link {
    return this.#current;
  }

  /** True when the current link takes more now. */
  get writable(): boolean {
    return this.#current.writable;
  }

  /** Writes to the current link. */
  write(bytes: Uint8Array, bulk?: boolean): boolean {
    return this.#current.write(bytes, bulk);
  }

  /** True when some attached link is open. */
  get anyOpen(): boolean {
    return this.#links.some((l) => l.isOpen);
  }

  /**
   * Attaches `link` as the newest of its `rank` (higher is preferred: a direct link over a relayed one),
   * and listens to it at once; moves to it now if it is open already and preferred.
   */
  add(link: Link, rank = 0): void {
    if (this.#closed || this.#listeners.has(link)) return;
    this.#ranks.set(link, rank);
    const listeners: Listeners = {
      open: () => this.#onOpen(link),
      data: (bytes) => this.#onData(link, bytes),
      writable: () => {
        if (link === this.#current) this.#handlers.writable();
      },
      close: (reason) => this.#onClose(link, reason),
    };
    this.#links.push(link);
    this.#listeners.set(link, listeners);
    for (const [event, listener] of Object.entries(listeners)) link.on(event as keyof LinkEvents, listener);
    if (link.isOpen) this.#onOpen(link);
  }

  /** Closes every attached link; the set reports nothing more. */
  closeAll(reason: string): void {
    this.#closed = true;
    clearTimeout(this.#graceTimer);
    const links = this.#links;
    this.#links = [];
    for (const link of links) {
      this.#detach(link);
      link.close(reason);
    }
  }

  /**
   * Preferred over the current link: of a higher rank, or of the same rank and attached after it; any
   * link once the current one closed. Both sides of a pair rank their links alike, so they agree on
   * where to go, whichever link opened first on either side.
   */
  #isNewer(link: Link): boolean {
    const rank = this.#ranks.get(link) ?? 0;
    const currentRank = this.#ranks.get(this.#current) ?? 0;
    if (rank !== currentRank) return rank > currentRank || this.#links.indexOf(this.#current) < 0;
    return this.#links.indexOf(link) > this.#links.indexOf(this.#current);
  }

  #onOpen(link: Link): void {
    if (this.#closed) return;
    if (link === this.#current) this.#handlers.opened(link);
    else if (this.#isNewer(link)) this.#switch(link, false);
  }

  #onData(link: Link, bytes: Uint8Array): void {
    if (this.#closed) return;
    if (link !== this.#current && this.#isNewer(link)) this.#switch(link, false);
    else if (link === this.#current && this.#awaitingPeer) {
      this.#awaitingPeer = false;
      this.#handlers.followed();
    }
    this.#handlers.data(bytes, link === this.#current);
  }

  #onClose(link: Link, reason: string): void {
    this.#detach(link);
    const i = this.#links.indexOf(link);
    if (i >= 0) this.#links.splice(i, 1);
    if (this.#closed || link !== this.#current) return;
    // The best open link left: the highest rank, the newest of it.
    let best: Link | undefined;
    for (const other of this.#links) {
      if (other.isOpen && (best === undefined || (this.#ranks.get(other) ?? 0) >= (this.#ranks.get(best) ?? 0)))
        best = other;
    }
    if (best !== undefined) {
      this.#switch(best, true);
      return;
    }
    if (this.#relinkGraceMs <= 0 && !this.#held) {
      this.#handlers.lost(reason);
      return;
    }
    this.#unlinked = true;
    this.#unlinkedReason = reason;
    if (!this.#held) this.#startGrace();
    this.#handlers.unlinked(reason);
  }

  #startGrace(): void {
    const graceMs = this.#relinkGraceMs;
    const reason = this.#unlinkedReason;
    clearTimeout(this.#graceTimer);
    if (graceMs <= 0) {
      this.#graceTimer = undefined;
      this.#handlers.lost(reason);
      return;
    }
    this.#graceTimer = setTimeout(() => this.#handlers.lost(`${reason}; no link within ${graceMs} ms`), graceMs);
    unrefTimer(this.#graceTimer);
  }

  #switch(link: Link, back: boolean): void {
    clearTimeout(this.#graceTimer);
    this.#graceTimer = undefined;
    this.#unlinked = false;
    this.#current = link;
    this.#awaitingPeer = back;
    this.#handlers.switched(link, back);
  }

  #detach(link: Link): void {
    const listeners = this.#listeners.get(link);
    if (listeners === undefined) return;
    this.#listeners.delete(link);
    for (const [event, listener] of Object.entries(listeners)) link.off(event as keyof LinkEvents, listener);
  }
}
