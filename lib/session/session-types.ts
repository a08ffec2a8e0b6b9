/** The shapes around a {@link Session}: its events, what it is built from, what its peer announced. */
import type { RoomTimeouts } from '../defaults.js';
import type { ProtocolError } from '../errors.js';
import type { Link } from '../link/Link.js';
import type { Logger } from '../logger.js';
import type { JsonObject } from '../protocol/json.js';
import type { ParticipantInfo } from '../protocol/signaling.js';
import type { AttachmentBudget, Delivery, IncomingTransfer } from './Inbox.js';
import type { ReceiveBudgets } from './ReceiveBudget.js';

/** Events of a {@link Session}. @internal */
export interface SessionEvents {
  /** The peer's hello arrived: it is present. */
  ready: (attributes: JsonObject) => void;
  message: (delivery: Delivery) => void;
  /** An attachment started arriving, or more of it arrived. */
  progress: (transfer: IncomingTransfer) => void;
  /** An attachment stopped arriving before it was whole: `reason` says why. Its bytes are freed. */
  aborted: (transfer: IncomingTransfer, reason: AttachmentAbortReason) => void;
  attributes: (attributes: JsonObject) => void;
  /**
   * The peer says it has a new participant id on the signaling server (a moved frame), with its proof of
   * its relay key if it sent one; see {@link Session.rename}.
   */
  moved: (id: string, proof: Uint8Array | undefined) => void;
  protocol_error: (err: ProtocolError) => void;
  /**
   * The session moved to `link` (see {@link Session.addLink}): a newer link opened or brought data, or the
   * current one closed and `link` is the newest still open. Not fired for the first link.
   */
  linked: (link: Link) => void;
  /** The current link closed and no attached link is open: the session waits `relinkGraceMs` for a new one. */
  unlinked: (reason: string) => void;
  /** The session is over; `bye` is true when the peer said goodbye first. Fired once. */
  close: (reason: string, bye: boolean) => void;
}

/** What a {@link Session} is built from. @internal */
export interface SessionOptions {
  participant: ParticipantInfo;
  /** Tells this session from the participant's others. */
  cid: string;
  link: Link;
  /**
   * The first link's rank, as {@link Session.addLink} takes it: both sides of a pair must rank a link kind
   * alike, whether it is a session's first link or one added later.
   * @default 0
   */
  linkRank?: number;
  timeouts: RoomTimeouts;
  maxAttachmentBytes: number;
  /** Bytes held for incomplete incoming attachments, shared by all sessions of this participant. */
  attachmentBudget: AttachmentBudget;
  /** How fast the peer may send: a token bucket on received bytes. */
  receiveRate: { bytesPerSecond: number; burstBytes: number };
  /** How much time decoding what the peer sends may take: a token bucket on decoding milliseconds. */
  decodeBudget: { msPerSecond: number; burstMs: number };
  /**
   * The budgets of this participant's peers, shared by the sessions of each (the two rates above then come
   * from them); without it, the session has a budget of its own.
   */
  receiveBudgets?: ReceiveBudgets;
  localAttributes: () => JsonObject;
  logger: Logger;
  /**
   * How long the session outlives its last open link, waiting for {@link Session.addLink}; sends keep
   * waiting meanwhile. 0: it closes when its last link closes.
   * @default 0
   */
  relinkGraceMs?: number;
}

/** Why an incoming attachment stopped before it was whole. */
export type AttachmentAbortReason = 'Cancelled' | 'ParticipantLeft' | 'Refused' | 'Stalled';

/** The limits the peer announced in its hello. @internal */
export interface PeerLimits {
  maxAttachmentBytes: number;
  maxFrameBytes: number;
  /** The most bytes of incomplete attachments the peer holds for this side at once (absent: older peers). */
  maxHeldBytes?: number | undefined;
}
