/** The message stream of a relayed link (lib/link/relay-stream.ts): packing into frames and back. Pure logic. */
import { expect } from 'chai';
import { MessagePacker, MessageUnpacker, PACKER_INITIAL_BYTES } from '../../lib/link/relay-stream.js';

/** A packer of `frameBytes` frames, keeping a copy of each frame and the size of the buffer it was cut from. */
function packer(frameBytes: number): { p: MessagePacker; frames: Uint8Array[]; buffers: number[] } {
  const frames: Uint8Array[] = [];
  const buffers: number[] = [];
  const p = new MessagePacker(frameBytes, 7, (plain) => {
    frames.push(plain.slice());
    buffers.push(plain.buffer.byteLength);
  });
  return { p, frames, buffers };
}

/** Every message the frames carry, unpacked as a receiver does. */
function unpack(frames: Uint8Array[]): number[][] {
  const u = new MessageUnpacker(1 << 20);
  const out: number[][] = [];
  for (const f of frames) {
    expect(f[0]).to.equal(7);
    expect(
      u.push(
        f.subarray(1),
        (m) => out.push([m.byteLength, m[0] ?? -1, m[m.byteLength - 1] ?? -1]),
        () => true,
      ),
    ).to.be.undefined;
  }
  return out;
}

describe('MessagePacker', () => {
  it('starts with a small buffer: small messages never make it grow', () => {
    const { p, frames, buffers } = packer(256 * 1024);
    for (let i = 0; i < 10; i++) {
      p.push(new Uint8Array(300).fill(i));
      p.flush();
    }
    expect(frames).to.have.length(10);
    expect(Math.max(...buffers)).to.equal(PACKER_INITIAL_BYTES);
    expect(unpack(frames)).to.deep.equal(Array.from({ length: 10 }, (_, i) => [300, i, i]));
  });

  it('grows up to one frame as messages need it, keeping what was packed, and frames stay as full as before', () => {
    const frameBytes = 64 * 1024;
    const { p, frames, buffers } = packer(frameBytes);
    const sizes = [10, 5000, 20, 40_000, 3, 200_000, 7];
    sizes.forEach((n, i) => p.push(new Uint8Array(n).fill(i + 1)));
    p.flush();
    expect(Math.max(...buffers)).to.equal(frameBytes);
    // Every frame but the last is full: the 200,000-byte message spans frames.
    const stream = sizes.reduce((n, s) => n + 4 + s, 0);
    expect(frames.reduce((n, f) => n + f.byteLength - 1, 0)).to.equal(stream);
    expect(frames.slice(0, -1).every((f) => f.byteLength === frameBytes)).to.equal(true);
    expect(unpack(frames)).to.deep.equal(sizes.map((n, i) => [n, i + 1, i + 1]));
  });

  it('a frame smaller than the first buffer: the buffer is the frame', () => {
    const { p, frames, buffers } = packer(1500);
    p.push(new Uint8Array(4000).fill(9));
    p.flush();
    expect(Math.max(...buffers)).to.equal(1500);
    expect(frames.map((f) => f.byteLength)).to.deep.equal([1500, 1500, 1 + 4004 - 2 * 1499]);
    expect(unpack(frames)).to.deep.equal([[4000, 9, 9]]);
  });
});
