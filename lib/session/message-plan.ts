/**
 * How a message goes on a link: whole in one frame, or a start frame with its attachment to follow in
 * chunks, and whether it fits at all. Pure functions of the message's encoded body and the link's sizes.
 */
import { MessagingError } from '../errors.js';
import {
  CHUNK_FRAME_BYTES,
  MAX_FRAME_BYTES,
  type MessageBody,
  encodeMessageFrame,
  encodeStartFrame,
  messageFrameBytes,
  startFrameBytes,
} from '../protocol/frames.js';

/** The sizes one link takes, once the peer's hello is known. @internal */
export interface LinkSizes {
  /** The largest whole-message or start frame. */
  maxWholeFrameBytes: number;
  /** The largest whole message that carries an attachment; a larger one goes as a start frame and chunks. */
  wholeWithAttachmentBytes: number;
  /** The size of a chunk frame: at most the above, cut to fit the current link's unit. */
  chunkFrameBytes: number;
  /** The current link's {@link Link.unitMessageBytes}: chunk frames are cut to fit it. */
  linkUnitBytes: number | undefined;
  /** The largest attachment the peer accepts; undefined before its hello. */
  peerMaxAttachmentBytes: number | undefined;
  /** Whose link this is, for the error messages. */
  participantId: string;
}

/** Sets the sizes once the peer's hello told its limits; `channelMax` is the link's own limit, when it tells. */
export function applyPeerLimits(
  link: LinkSizes,
  peer: { maxAttachmentBytes: number; maxFrameBytes: number },
  channelMax: number | undefined,
): void {
  link.maxWholeFrameBytes = Math.min(MAX_FRAME_BYTES, peer.maxFrameBytes, channelMax ?? MAX_FRAME_BYTES);
  link.wholeWithAttachmentBytes = Math.min(CHUNK_FRAME_BYTES, link.maxWholeFrameBytes);
  link.peerMaxAttachmentBytes = peer.maxAttachmentBytes;
  setLinkUnit(link, link.linkUnitBytes);
}

/**
 * Sets the current link's unit (see {@link Link.unitMessageBytes}), and the chunk frame size with it: the
 * whole-message size, cut to the link's unit. On the relay, a 64 KiB chunk frame spanned two relayed frames
 * and was put back together in a fresh buffer on arrival: a copy of every attachment byte, and garbage, that
 * a chunk sized to one relayed frame does not cost. Which messages go whole does not change with the link
 * (an attachment over one 64 KiB frame reports progress on every path).
 */
export function setLinkUnit(link: LinkSizes, unitBytes: number | undefined): void {
  link.linkUnitBytes = unitBytes;
  link.chunkFrameBytes = Math.min(link.wholeWithAttachmentBytes, unitBytes ?? CHUNK_FRAME_BYTES);
}

/** The seq used to measure a message before it has one: the largest, so the measure is never short. */
const MAX_SEQ_PLACEHOLDER = Number.MAX_SAFE_INTEGER;

/**
 * The frame that starts message `seq`: the whole message when it fits one frame of the whole-message size (or,
 * without attachment, the largest frame), else a start frame with the attachment to follow in chunks.
 * Sizes come from the encoded body; nothing is encoded twice. Throws {@link MessagingError}
 * `MessageTooLarge` when it cannot go on this link.
 */
export function planMessage(
  seq: number,
  body: MessageBody,
  attachment: Uint8Array | undefined,
  link: LinkSizes,
): Uint8Array {
  checkAttachment(attachment, link);
  if (attachment === undefined) {
    // The common case: the frame straight from the encoder, measured as it is.
    const frame = body.messageFrame(seq);
    checkFrameSize(frame.byteLength, link);
    return frame;
  }
  if (goesWhole(seq, body.bytes, attachment, link)) return encodeMessageFrame(seq, body.bytes, attachment);
  checkFrameSize(startFrameBytes(seq, body.bytes, attachment.byteLength), link);
  return encodeStartFrame(seq, body.bytes, attachment.byteLength);
}

/** Throws {@link MessagingError} `MessageTooLarge` when this message cannot go on this link; encodes no frame. */
export function checkMessage(body: MessageBody, attachment: Uint8Array | undefined, link: LinkSizes): void {
  checkAttachment(attachment, link);
  if (attachment === undefined) checkFrameSize(messageFrameBytes(MAX_SEQ_PLACEHOLDER, body.bytes), link);
  else if (!goesWhole(MAX_SEQ_PLACEHOLDER, body.bytes, attachment, link))
    checkFrameSize(startFrameBytes(MAX_SEQ_PLACEHOLDER, body.bytes, attachment.byteLength), link);
}

/**
 * Throws {@link MessagingError} `MessageTooLarge` when the message could go to no peer: its encoded body
 * (with the attachment's size, when chunked) does not fit the largest frame this side sends.
 */
export function checkFitsAnyLink(body: MessageBody, attachment: Uint8Array | undefined): void {
  const size =
    attachment === undefined
      ? messageFrameBytes(MAX_SEQ_PLACEHOLDER, body.bytes)
      : startFrameBytes(MAX_SEQ_PLACEHOLDER, body.bytes, attachment.byteLength);
  if (size > MAX_FRAME_BYTES) throw MessagingError.tooLarge(size, MAX_FRAME_BYTES);
}

/** Throws `MessageTooLarge` for an attachment above what the peer announced it accepts. */
function checkAttachment(attachment: Uint8Array | undefined, link: LinkSizes): void {
  const max = link.peerMaxAttachmentBytes;
  if (attachment !== undefined && max !== undefined && attachment.byteLength > max) {
    throw MessagingError.attachmentTooLarge(attachment.byteLength, max, link.participantId);
  }
}

/** Throws `MessageTooLarge` for a whole-message or start frame larger than this link takes. */
function checkFrameSize(bytes: number, link: LinkSizes): void {
  if (bytes > link.maxWholeFrameBytes)
    throw MessagingError.tooLarge(bytes, link.maxWholeFrameBytes, link.participantId);
}

/** Whether a message with this attachment goes whole, in one frame of the whole-message size. */
function goesWhole(seq: number, body: Uint8Array, attachment: Uint8Array, link: LinkSizes): boolean {
  return (
    attachment.byteLength <= link.wholeWithAttachmentBytes &&
    messageFrameBytes(seq, body, attachment.byteLength) <= link.wholeWithAttachmentBytes
  );
}
