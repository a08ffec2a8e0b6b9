/**
 * What a participant sent before this side knew it enabled messaging: held by sender, handed over in
 * order once it is known, bounded, and dropped (and reported) when it is not known in time.
 */
import { expect } from 'chai';
import { EarlyArrivals } from '../../lib/mesh/EarlyArrivals.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('EarlyArrivals: frames and signals from a sender not yet known', () => {
  it('hands over what a sender sent, in order, once, and nothing of another sender', () => {
    const early = new EarlyArrivals<string>({ bytesOf: (s) => s.length });
    expect(early.hold('a', 'a1')).to.equal(true);
    expect(early.hold('b', 'b1')).to.equal(true);
    expect(early.hold('a', 'a2')).to.equal(true);
    expect(early.take('a')).to.deep.equal(['a1', 'a2']);
    expect(early.take('a'), 'taken once').to.deep.equal([]);
    expect(early.take('b')).to.deep.equal(['b1']);
    early.clear();
  });

  it('refuses past its bounds: 32 items per sender, 64 senders, 4 MiB in all', () => {
    const early = new EarlyArrivals<number>({ bytesOf: (n) => n });
    for (let i = 0; i < 32; i++) expect(early.hold('a', 1)).to.equal(true);
    expect(early.hold('a', 1), 'the 33rd item of one sender').to.equal(false);
    for (let i = 1; i < 64; i++) expect(early.hold(`s${i}`, 1)).to.equal(true);
    expect(early.hold('s64', 1), 'a 65th sender').to.equal(false);
    early.clear();
    expect(early.hold('x', 4 * 1024 * 1024)).to.equal(true);
    expect(early.hold('y', 1), 'over the byte bound').to.equal(false);
    expect(early.take('x')).to.have.length(1);
    expect(early.hold('y', 1), 'room again once taken').to.equal(true);
    early.clear();
  });

  it('drops what waited too long and says for whom, so a pair left to its connect timeout shows in the log', async () => {
    const expired: Array<[string, number]> = [];
    const early = new EarlyArrivals<string>({
      bytesOf: () => 1,
      holdMs: 30,
      expired: (from, items) => expired.push([from, items]),
    });
    early.hold('a', 'a1');
    early.hold('a', 'a2');
    early.hold('b', 'b1');
    expect(early.take('b')).to.deep.equal(['b1']);
    await sleep(80);
    expect(expired).to.deep.equal([['a', 2]]);
    expect(early.take('a'), 'dropped').to.deep.equal([]);
    early.hold('c', 'c1');
    early.clear();
    await sleep(80);
    expect(expired, 'what clear() drops is not reported').to.deep.equal([['a', 2]]);
  });
});
