/**
 * The data-channel frames' constants and types: what lib/protocol/frames.ts encodes and
 * lib/protocol/frame-decoder.ts decodes (frames.ts re-exports all of it, and holds the layout table).
 */
import type { JsonObject } from './json.js';

/** Version carried in every data-channel frame. A frame of another version is refused. */
export const FRAME_VERSION = 1;

/** Frame kinds, the second element of every frame. */
export const FrameKind = {
  Hello: 0,
  Message: 1,
  Ack: 2,
  Attributes: 3,
  Bye: 4,
  Ping: 5,
  Start: 6,
  Chunk: 7,
  Cancel: 8,
  Refuse: 9,
  Moved: 10,
} as const;

/** A frame kind number. */
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

/** Largest frame roommesh accepts or sends: the max-message-size every supported implementation accepts (256 KiB). */
export const MAX_FRAME_BYTES = 256 * 1024;

/**
 * Smallest `maxFrameBytes` a hello may announce: 16 KiB, which every WebRTC implementation takes. Lower, one
 * participant could make every broadcast of more than a little JSON fail for everyone.
 */
export const MIN_FRAME_BYTES = 16 * 1024;

/**
 * Size of the chunk frames an attachment is cut into, unless the receiver's hello or the channel allows
 * less. Chosen by measurement (bench/frame-size): see docs/PROTOCOL.md.
 */
export const CHUNK_FRAME_BYTES = 64 * 1024;

/** Most bytes a chunk frame adds around its attachment bytes (array head, version, kind, seq, offset, length). */
export const CHUNK_OVERHEAD_BYTES = 32;

/** Protocol errors a receiver tolerates from one peer before it closes the link. */
export const MAX_PROTOCOL_ERRORS = 32;

/** Most started messages one side of a link may have incomplete at once. */
export const MAX_CONCURRENT_TRANSFERS = 4;

/** Longest message `type`, in UTF-16 code units. */
export const MAX_TYPE_LENGTH = 256;

/** Longest `reason` of a refuse frame. */
export const MAX_REASON_LENGTH = 64;

/** Longest participant id a moved frame may carry (the signaling protocol's `MAX_NAME_LENGTH`). */
export const MAX_MOVED_ID_LENGTH = 128;

/** Bytes of a moved frame's proof that its sender holds its relay key (lib/link/relay-crypto.ts, `movedProof`). */
export const MOVED_PROOF_BYTES = 16;

/** Longest `text` of a failed reply (the message of the handler's error, truncated by the sender). */
export const MAX_CALL_TEXT_LENGTH = 1024;

/** Call kinds: the second element of a call, which stands in a message's or start's `type` slot. */
export const CallKind = {
  Request: 0,
  Reply: 1,
  Failure: 2,
} as const;

/** Why a request failed at the peer (the `reason` of a failed reply). Receivers treat other strings as `HandlerFailed`. */
export type CallFailureReason = 'NoHandler' | 'HandlerFailed' | 'Busy';

/**
 * What makes a message a request or a reply: a request asks for a reply carrying its `id`; a reply answers
 * the request `id` of its recipient, with its payload (`Reply`) or with why it failed (`Failure`).
 */
export type Call =
  | { kind: typeof CallKind.Request; id: number }
  | { kind: typeof CallKind.Reply; id: number }
  | { kind: typeof CallKind.Failure; id: number; reason: string; text: string };

/** Largest sequence number, offset or size; seq counts messages per link direction and never wraps in practice. */
export const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/** Why a receiver refused a message (the `reason` of a refuse frame). Receivers may send other strings; treat them as `Invalid`. */
export type RefuseReason = 'TooLarge' | 'TooManyTransfers' | 'Invalid' | 'NoMemory' | 'Stalled';

/** A decoded data-channel frame. */
export type Frame =
  | {
      kind: typeof FrameKind.Hello;
      attributes: JsonObject;
      maxAttachmentBytes: number;
      maxFrameBytes: number;
      /** The sender's session tag: random, the same in every hello of one session (absent from older peers). */
      session?: number;
      /** The receiver's session tag, from its hello, once the sender has it: whose session this hello is of. */
      peer?: number;
      /**
       * The most bytes of incomplete attachments the sender of the hello holds for one peer at once: a peer
       * starts no attachment past it while others are under way, but waits (absent from older peers).
       */
      maxHeldBytes?: number;
    }
  | {
      kind: typeof FrameKind.Message;
      seq: number;
      type: string;
      payload: JsonObject;
      attachment?: Uint8Array;
      call?: Call;
    }
  | { kind: typeof FrameKind.Ack; seq: number; incomplete: number[] }
  | { kind: typeof FrameKind.Attributes; attributes: JsonObject }
  | { kind: typeof FrameKind.Bye }
  | { kind: typeof FrameKind.Ping }
  | { kind: typeof FrameKind.Start; seq: number; type: string; payload: JsonObject; totalBytes: number; call?: Call }
  | { kind: typeof FrameKind.Chunk; seq: number; offset: number; bytes: Uint8Array }
  | { kind: typeof FrameKind.Cancel; seq: number }
  | { kind: typeof FrameKind.Refuse; seq: number; reason: string }
  | { kind: typeof FrameKind.Moved; id: string; proof?: Uint8Array };

/** The frame of one kind. */
export type FrameOf<K extends FrameKind> = Extract<Frame, { kind: K }>;

/** Why a frame was refused by {@link decodeFrame}. */
export type FrameErrorReason = 'NotCbor' | 'NotAFrame' | 'UnsupportedVersion' | 'UnknownKind' | 'BadField' | 'TooLarge';

/** The result of decoding a frame that could not be accepted. */
export interface FrameDecodeError {
  error: FrameErrorReason;
  detail: string;
}
