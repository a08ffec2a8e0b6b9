import { expect } from 'chai';
import { FrameBatch, type MessageSink } from '../../lib/session/FrameBatch.js';

/** A sink that records messages: the batch is pure logic, so a recording sink is enough here. */
function sink(): MessageSink & { messages: number[][]; open: boolean } {
  const s = {
    messages: [] as number[][],
    open: true,
    get writable() {
      return s.open;
    },
    write(bytes: Uint8Array) {
      if (!s.open) return false;
      s.messages.push([...bytes]);
      return true;
    },
  };
  return s;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('FrameBatch', () => {
  it('sends the frames written in one task as one message when the task ends', async () => {
    const s = sink();
    const b = new FrameBatch(s, 100);
    b.write(new Uint8Array([1, 2]));
    b.write(new Uint8Array([3]));
    expect(s.messages).to.deep.equal([]);
    expect(b.pendingBytes).to.equal(3);
    await tick();
    expect(s.messages).to.deep.equal([[1, 2, 3]]);
    b.write(new Uint8Array([4]));
    await tick();
    expect(s.messages).to.deep.equal([[1, 2, 3], [4]]);
  });

  it('never lets a message exceed the largest size, and keeps order around a large frame', async () => {
    const s = sink();
    const b = new FrameBatch(s, 16);
    for (let i = 1; i <= 6; i++) b.write(new Uint8Array([i, i, i])); // the sixth would make 18: the first five go
    b.write(new Uint8Array([9, 9, 9, 9, 9])); // over a quarter of the size: alone, after what waits
    b.write(new Uint8Array([4]));
    await tick();
    expect(s.messages).to.deep.equal([[1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5], [6, 6, 6], [9, 9, 9, 9, 9], [4]]);
    expect(s.messages.every((m) => m.length <= 16)).to.equal(true);
  });

  it('says when the link is gone, and drops what waits on clear()', async () => {
    const s = sink();
    const b = new FrameBatch(s, 8);
    b.write(new Uint8Array([1]));
    b.clear();
    await tick();
    expect(s.messages).to.deep.equal([]);
    s.open = false;
    b.write(new Uint8Array([2]));
    expect(b.flush()).to.equal(false);
    expect(b.write(new Uint8Array([7, 7, 7, 7, 7]))).to.equal(false);
  });
});
