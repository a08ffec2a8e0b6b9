/** Timings and receive limits, with their defaults: what every layer of a participant is tuned by. */

/** Tunable timings of a room. Every field has a default; units are in the names. */
export interface RoomTimeouts {
  /**
   * How long `Room.connect` waits for the signaling server to accept the connection and the join.
   * @default 10000
   */
  signalingTimeoutMs: number;
  /**
   * How long one attempt to open a link (a data channel or a relayed link) to a participant may take before
   * it is retried.
   * @default 5000
   */
  connectAttemptTimeoutMs: number;
  /**
   * How many attempts to connect to a participant `enable()` waits for before it stops waiting
   * for that participant. Attempts go on in the background, with backoff, while the participant stays.
   * @default 4
   */
  connectAttempts: number;
  /**
   * The longest wait between two attempts to reconnect, to the signaling server or over a failed data
   * channel. Waits grow with jitter: a data channel is re-dialed first within 50 ms, then after 400 ms doubling;
   * the signaling server is tried again after a wait doubling from 250 ms.
   * @default 10000
   */
  reconnectMaxDelayMs: number;
  /**
   * How long `sendMessage` waits for the recipient's acknowledgement, from the moment its last byte left.
   * A link that takes no byte for this long while messages wait for it is closed (the pair relinks).
   * @default 30000
   */
  ackTimeoutMs: number;
  /**
   * How often an idle link sends a heartbeat.
   * @default 1000
   */
  heartbeatIntervalMs: number;
  /**
   * How long a link may stay silent before the participant is taken as gone and removed from presence
   * (for a relayed pair held as `relinkGraceMs` says, only that link is closed).
   * @default 5000
   */
  heartbeatTimeoutMs: number;
  /**
   * How long a participant whose every link closed (its data channel broke and the relay cannot reach it
   * either) is kept while a new link is set up: its state is `reconnecting`, messages to it wait, and
   * nothing sent is lost if a link comes back in time. After this it is removed, and what waited for its
   * acknowledgement rejects with `ParticipantLeft`. A relayed pair cut off because one side is off the
   * signaling server (this side lost it, or the peer's server process died) waits for the server's word
   * instead: the peer back, or gone when its resume window ends.
   * @default 5000
   */
  relinkGraceMs: number;
  /**
   * How long an incoming attachment may go without a chunk before it is refused (`Stalled`) and its buffer
   * freed. Checked every heartbeat interval.
   * @default 30000
   */
  attachmentStallTimeoutMs: number;
}

/** Limits on what this participant takes in from the others. Every field has a default; units are in the names. */
export interface ReceiveLimits {
  /**
   * The most bytes held at once for incoming attachments that are still arriving, over all participants. A
   * buffer is allocated whole when an attachment starts; a start that would pass this is refused (`NoMemory`),
   * unless attachments arriving too slowly (10 s in, over 10 minutes to go) give it their bytes.
   * @default 1073741824 (1 GiB)
   */
  maxIncomingAttachmentBytesTotal: number;
  /**
   * Sustained rate, in bytes per second, at which one participant may send to this one (a token bucket on
   * received bytes, refilled at this rate up to `receiveBurstBytes`). A participant over it gets a
   * `LimitExceeded` error and its link is closed.
   * @default 134217728 (128 MiB/s)
   */
  receiveBytesPerSecond: number;
  /**
   * Bytes one participant may send above `receiveBytesPerSecond` in a burst.
   * @default 268435456 (256 MiB)
   */
  receiveBurstBytes: number;
  /**
   * Milliseconds per second this participant may spend decoding and checking what one participant sends (a
   * token bucket on decoding time, refilled at this rate up to `decodeBurstMs`). Bytes alone do not bound
   * the cost: a 240 KB frame of 25,000 small JSON keys takes ~15 ms to decode, so a flood of them at
   * line rate froze a receiver while the channel queued what it could not read. A participant over it gets a
   * `LimitExceeded` error and its link is closed. Honest traffic stays far below: 100,000 small messages a
   * second take ~100 ms, attachment chunks almost nothing.
   * @default 400
   */
  decodeMsPerSecond: number;
  /**
   * Decoding milliseconds one participant may take above `decodeMsPerSecond` in a burst.
   * @default 1000
   */
  decodeBurstMs: number;
}

/** The default timings. */
export const DEFAULT_TIMEOUTS: Readonly<RoomTimeouts> = Object.freeze({
  signalingTimeoutMs: 10_000,
  connectAttemptTimeoutMs: 5_000,
  connectAttempts: 4,
  reconnectMaxDelayMs: 10_000,
  ackTimeoutMs: 30_000,
  heartbeatIntervalMs: 1_000,
  heartbeatTimeoutMs: 5_000,
  relinkGraceMs: 5_000,
  attachmentStallTimeoutMs: 30_000,
});

/** The default receive limits. */
export const DEFAULT_RECEIVE_LIMITS: Readonly<ReceiveLimits> = Object.freeze({
  maxIncomingAttachmentBytesTotal: 1024 * 1024 * 1024,
  receiveBytesPerSecond: 128 * 1024 * 1024,
  receiveBurstBytes: 256 * 1024 * 1024,
  decodeMsPerSecond: 400,
  decodeBurstMs: 1000,
});
