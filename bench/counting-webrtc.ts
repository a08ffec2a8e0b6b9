/** A WebRTC implementation wrapped to count the peer connections made and not yet closed (the soaks' leak check). */
import type { WebRTCImplementation } from '../lib/node.js';

/** Wraps `impl`; `open()` is the number of its peer connections created and not yet closed. */
export function countingWebRTC(impl: WebRTCImplementation): { wrtc: WebRTCImplementation; open: () => number } {
  let open = 0;
  const Base = impl.RTCPeerConnection as new (config?: unknown) => { close(): void };
  class CountingPeerConnection extends Base {
    #open = true;
    constructor(config?: unknown) {
      super(config);
      open++;
    }
    override close(): void {
      if (this.#open) open--;
      this.#open = false;
      super.close();
    }
  }
  return { wrtc: { ...impl, RTCPeerConnection: CountingPeerConnection }, open: () => open };
}
