/**
 * The Node entry of roommesh: the same API as the browser entry, with node-datachannel as the default
 * WebRTC implementation. Pass `wrtc` in the options to use another (e.g. @roamhq/wrtc). node-datachannel
 * is an optional peer dependency, loaded when a Room first needs it: without it, importing this entry
 * works and `Room.connect` fails with a MissingDependencyError naming `npm install node-datachannel`.
 * Relayed links seal, and derive their keys, with node:crypto (synchronous) rather than WebCrypto; the
 * signaling websocket sends its frames unmasked (signaling/node-websocket.ts).
 */
import type { WebRTCImplementation } from './link/webrtc.js';
import { MissingDependencyError, nodeDataChannelWebRTC } from './link/node-datachannel.js';
import { nodeRelayAead } from './link/node-relay-aead.js';
import { nodeRelayKdf } from './link/node-relay-kdf.js';
import type { RelayAeadFactory, RelayKdf } from './link/relay-crypto.js';
import { ZeroMaskNodeWebSocket } from './signaling/node-websocket.js';
import type { SignalingTransport } from './signaling/socket.js';
import { Room as BaseRoom } from './Room.js';
import type { MessageMap, MessageMapOf } from './types.js';

export * from './index.js';

/** A room joined through a signaling server; in Node, peer connections use node-datachannel unless `wrtc` says otherwise. */
export class Room<M extends MessageMapOf<M> = MessageMap, R extends MessageMapOf<R> = MessageMap> extends BaseRoom<
  M,
  R
> {
  protected static override defaultWebRTC: (() => WebRTCImplementation) | undefined = nodeDataChannelWebRTC;
  /** @internal */
  protected static override relayAead: RelayAeadFactory = nodeRelayAead;
  /** @internal */
  protected static override relayKdf: RelayKdf = nodeRelayKdf;
  /** @internal */
  protected static override signalingTransport: SignalingTransport = ZeroMaskNodeWebSocket;
}

export { MissingDependencyError, nodeDataChannelWebRTC };
