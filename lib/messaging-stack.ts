/**
 * A room's mesh and messaging client, built from its options over one signaling connection. The Room builds
 * its own with this, and so does the rehearsal that runs the same code in memory while the room connects
 * (rehearsal.ts): what that rehearsal warms is what the room then runs.
 */
import type { ReceiveLimits, RoomTimeouts } from './defaults.js';
import { PeerLink } from './link/PeerLink.js';
import { RelayLink } from './link/RelayLink.js';
import type { RelayAeadFactory, RelayKdf, RelayKeyPair } from './link/relay-crypto.js';
import type { WebRTCImplementation } from './link/webrtc.js';
import type { Logger } from './logger.js';
import { Mesh, type SignalingPort } from './mesh/Mesh.js';
import type { PathPolicy } from './mesh/paths.js';
import { MessagingClient } from './MessagingClient.js';
import type { JsonObject } from './protocol/json.js';
import type { RelayTerms } from './protocol/signaling.js';
import { AttachmentBudget } from './session/Inbox.js';
import { ReceiveBudgets } from './session/ReceiveBudget.js';

/** What a room's mesh needs from its signaling connection: the {@link SignalingPort} and the relay. @internal */
export interface MessagingSignaling extends SignalingPort {
  /** The server's relay limits; undefined when it does not relay. */
  readonly relayTerms: RelayTerms | undefined;
  /** Sends a sealed frame to participant `to` through the server's relay. */
  sendRelay(to: string, data: Uint8Array): Promise<void>;
}

/** The room's settings its mesh and messaging are built with. @internal */
export interface MessagingStackDeps {
  paths: PathPolicy;
  /** This participant's relay key pair; absent when it cannot be relayed (the policy is `direct`, or no WebCrypto). */
  relayKeys: RelayKeyPair | undefined;
  /** The AES-GCM relayed links run on. */
  relayAead: RelayAeadFactory;
  relayKdf: RelayKdf;
  wrtc: WebRTCImplementation | undefined;
  rtcConfig: Record<string, unknown>;
  timeouts: RoomTimeouts;
  maxAttachmentBytes: number;
  receiveLimits: ReceiveLimits;
  logger: Logger;
}

/** Where a {@link createMessagingStack} runs: this participant, and its signaling connection. @internal */
export interface MessagingStackInit {
  /** This participant's id now (it follows a re-join). */
  localId: () => string;
  /** This participant's attributes now, as its hellos carry them. */
  localAttributes: () => JsonObject;
  signaling: MessagingSignaling;
  deps: MessagingStackDeps;
}

/**
 * The mesh of sessions to the other participants and the messaging client over it.
 * @internal
 * @example const { mesh, messaging } = createMessagingStack({ localId: () => id, localAttributes: () => ({}), signaling, deps })
 */
export function createMessagingStack(init: MessagingStackInit): { mesh: Mesh; messaging: MessagingClient } {
  const { localId, localAttributes, signaling, deps } = init;
  const {
    maxIncomingAttachmentBytesTotal,
    receiveBytesPerSecond,
    receiveBurstBytes,
    decodeMsPerSecond,
    decodeBurstMs,
  } = deps.receiveLimits;
  const receiveRate = { bytesPerSecond: receiveBytesPerSecond, burstBytes: receiveBurstBytes };
  const decodeBudget = { msPerSecond: decodeMsPerSecond, burstMs: decodeBurstMs };
  const { relayKeys } = deps;
  const mesh = new Mesh({
    localId: localId(),
    signaling,
    policy: deps.paths,
    ...(relayKeys === undefined ? {} : { identity: { keys: relayKeys, kdf: deps.relayKdf } }),
    createDirect: (initiator) =>
      new PeerLink({ initiator, wrtc: deps.wrtc, rtcConfig: deps.rtcConfig, logger: deps.logger }),
    createRelay: (peer, cid, initiator, to) => {
      const terms = signaling.relayTerms;
      if (relayKeys === undefined || terms === undefined || peer.relayKey === undefined) return undefined;
      return new RelayLink({
        port: { send: (data) => signaling.sendRelay(to(), data) },
        keys: relayKeys,
        localId: localId(),
        peerId: peer.id,
        peerKey: peer.relayKey,
        cid,
        initiator,
        maxFrameBytes: terms.maxFrameBytes,
        aead: deps.relayAead,
        kdf: deps.relayKdf,
        logger: deps.logger,
      });
    },
    timeouts: deps.timeouts,
    logger: deps.logger,
    session: {
      timeouts: deps.timeouts,
      maxAttachmentBytes: deps.maxAttachmentBytes,
      attachmentBudget: new AttachmentBudget(maxIncomingAttachmentBytesTotal),
      receiveRate,
      decodeBudget,
      receiveBudgets: new ReceiveBudgets({ bytes: receiveRate, decode: decodeBudget }),
      localAttributes,
      relinkGraceMs: deps.timeouts.relinkGraceMs,
      logger: deps.logger,
    },
  });
  const messaging = MessagingClient.create({ mesh, maxAttachmentBytes: deps.maxAttachmentBytes, logger: deps.logger });
  return { mesh, messaging };
}
