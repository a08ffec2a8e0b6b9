import { expect } from 'chai';
import {
  BROWSER_HIGH_WATER_BYTES,
  BROWSER_LOW_WATER_BYTES,
  HIGH_WATER_BYTES,
  LOW_WATER_BYTES,
  waterMarksFor,
} from '../../lib/link/PeerLink.js';
import {
  type WebRTCImplementation,
  adaptWebRTC,
  hasLiveBufferedAmount,
  markLiveBufferedAmount,
} from '../../lib/link/webrtc.js';

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

  it('re-reads the buffer within a task only on an implementation marked live, a mark adapting keeps', () => {
    const impl = (): WebRTCImplementation => ({
      RTCPeerConnection: class {},
      RTCSessionDescription: class {},
      RTCIceCandidate: class {},
    });
    expect(hasLiveBufferedAmount(undefined), "a browser's own").to.equal(false);
    const plain = impl();
    expect(hasLiveBufferedAmount(plain), "an app's own, unmarked").to.equal(false);
    expect(hasLiveBufferedAmount(adaptWebRTC(plain))).to.equal(false);
    const live = markLiveBufferedAmount(impl());
    expect(hasLiveBufferedAmount(live)).to.equal(true);
    expect(hasLiveBufferedAmount(adaptWebRTC(adaptWebRTC(live))), 'adapted twice').to.equal(true);
  });
});
