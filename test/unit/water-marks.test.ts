import { expect } from 'chai';
import {
  BROWSER_HIGH_WATER_BYTES,
  BROWSER_LOW_WATER_BYTES,
  HIGH_WATER_BYTES,
  LOW_WATER_BYTES,
  waterMarksFor,
} from '../../lib/link/PeerLink.js';
import type { WebRTCImplementation } from '../../lib/link/webrtc.js';

describe('PeerLink water marks (issue #13)', () => {
  it("keeps a browser's own channel to 256 KiB buffered, where Chromium stopped discarding bursts", () => {
    const marks = waterMarksFor(undefined);
    expect(marks).to.deep.equal({ highBytes: BROWSER_HIGH_WATER_BYTES, lowBytes: BROWSER_LOW_WATER_BYTES });
    expect(marks.highBytes).to.equal(256 * 1024);
    expect(marks.lowBytes).to.be.greaterThan(0).and.below(marks.highBytes);
  });

  it('keeps 1 MiB for an implementation passed in (node-datachannel), which never stalled with it', () => {
    const marks = waterMarksFor({} as WebRTCImplementation);
    expect(marks).to.deep.equal({ highBytes: HIGH_WATER_BYTES, lowBytes: LOW_WATER_BYTES });
    expect(marks.highBytes).to.equal(1024 * 1024);
  });
});
