/** The rate limiters' arithmetic, with time passed in (pure logic), and the bound on remembered keys. */
import { expect } from 'chai';
import { KeyedRateLimiter, TokenBucket } from '../../signaling/limits.js';

describe('TokenBucket', () => {
  it('allows a burst, then refills at the rate, never above the burst', () => {
    const b = new TokenBucket(2, 3, 0);
    expect([b.take(0), b.take(0), b.take(0), b.take(0)]).to.deep.equal([true, true, true, false]);
    expect(b.take(400)).to.equal(false); // 0.8 token
    expect(b.take(500)).to.equal(true); // 1 token after 500 ms at 2/s
    expect(b.take(60_000)).to.equal(true);
    expect([b.take(60_000), b.take(60_000), b.take(60_000)]).to.deep.equal([true, true, false]); // capped at 3
  });

  it('does not refill when the clock goes backwards', () => {
    const b = new TokenBucket(10, 1, 1000);
    expect(b.take(1000)).to.equal(true);
    expect(b.take(0)).to.equal(false);
  });
});

describe('KeyedRateLimiter', () => {
  it('limits each key on its own', () => {
    const l = new KeyedRateLimiter(1, 2, 100);
    expect([l.take('a', 0), l.take('a', 0), l.take('a', 0)]).to.deep.equal([true, true, false]);
    expect(l.take('b', 0)).to.equal(true);
  });

  it('never remembers more than maxKeys keys, however many distinct keys come', () => {
    const l = new KeyedRateLimiter(1, 1, 1000);
    for (let i = 0; i < 50_000; i++) l.take(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, i);
    expect(l.size).to.equal(1000);
  });

  it('drops the least recently used key first, keeping a busy one limited', () => {
    const l = new KeyedRateLimiter(0.001, 1, 3);
    expect(l.take('busy', 0)).to.equal(true);
    for (let i = 0; i < 10; i++) {
      l.take(`other-${i}`, 0);
      expect(l.take('busy', 0)).to.equal(false); // touched every round: never evicted, still empty
    }
  });
});
