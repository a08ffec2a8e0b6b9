import { expect } from 'chai';
import {
  BROWSER_HIGH_WATER_BYTES,
  BROWSER_LOW_WATER_BYTES,
  HIGH_WATER_BYTES,
  LOW_WATER_BYTES,
  waterMarksFor,
} from '../../lib/link/PeerLink.js';
import type { WebRTCImplementation } from '../../lib/link/webrtc.js';

const MiB = 1024 * 1024;
const KiB = 1024;

describe('PeerLink water marks (issue #13)', () => {
  it("keeps a browser's own channel to 256 KiB buffered while it carries small frames", () => {
    const marks = waterMarksFor(undefined);
    expect(marks.highBytes)
      .to.equal(BROWSER_HIGH_WATER_BYTES)
      .and.equal(256 * KiB);
    expect(marks.lowBytes)
      .to.equal(BROWSER_LOW_WATER_BYTES)
      .and.equal(64 * KiB);
  });

  it("lets bulk (attachment chunks) fill a browser's own channel to 1 MiB, as before", () => {
    const marks = waterMarksFor(undefined);
    expect(marks.bulkHighBytes).to.equal(HIGH_WATER_BYTES).and.equal(MiB);
    expect(marks.bulkLowBytes)
      .to.equal(LOW_WATER_BYTES)
      .and.equal(256 * KiB);
  });

  it('keeps 1 MiB for everything on an implementation passed in (node-datachannel), which never stalled', () => {
    expect(waterMarksFor({} as WebRTCImplementation)).to.deep.equal({
      highBytes: MiB,
      lowBytes: 256 * KiB,
      bulkHighBytes: MiB,
      bulkLowBytes: 256 * KiB,
    });
  });
});
