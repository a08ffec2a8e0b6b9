import { expect } from 'chai';
import { BROWSER_BATCH_BYTES, HIGH_WATER_BYTES, LOW_WATER_BYTES, channelLimitsFor } from '../../lib/link/PeerLink.js';
import type { WebRTCImplementation } from '../../lib/link/webrtc.js';

/** User data that fits one of Chromium's SCTP packets (1,191 bytes, less the common and DATA chunk headers). */
const ONE_SCTP_PACKET_BYTES = 1_191 - 12 - 16;

describe('PeerLink channel limits (issue #13)', () => {
  it("batches small frames on a browser's own channel into messages that fit one SCTP packet", () => {
    const limits = channelLimitsFor(undefined);
    expect(limits.batchBytes).to.equal(BROWSER_BATCH_BYTES);
    expect(BROWSER_BATCH_BYTES).to.be.greaterThan(100).and.at.most(ONE_SCTP_PACKET_BYTES);
  });

  it("keeps 1 MiB / 256 KiB water marks on a browser's own channel, where smaller ones cost attachments", () => {
    const limits = channelLimitsFor(undefined);
    expect(limits.highBytes)
      .to.equal(1024 * 1024)
      .and.equal(HIGH_WATER_BYTES);
    expect(limits.lowBytes)
      .to.equal(256 * 1024)
      .and.equal(LOW_WATER_BYTES);
  });

  it('leaves an implementation passed in (node-datachannel) its 1 MiB buffer and 64 KiB batches', () => {
    const limits = channelLimitsFor({} as WebRTCImplementation);
    expect(limits).to.deep.equal({ highBytes: 1024 * 1024, lowBytes: 256 * 1024, batchBytes: undefined });
  });
});
