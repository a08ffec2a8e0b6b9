/** The mesh's pending re-dials: one per participant; scheduling again replaces the pending one, which never fires. */
import { expect } from 'chai';
import { Redials } from '../../lib/mesh/Redials.js';

describe('Redials', () => {
  it('a re-dial scheduled again replaces the pending one: only the last fires', async () => {
    const r = new Redials();
    const fired: string[] = [];
    r.schedule('bob', 5, () => fired.push('first'));
    r.schedule('bob', 30, () => fired.push('second'));
    await new Promise((resolve) => setTimeout(resolve, 15));
    expect(fired).to.deep.equal([]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(fired).to.deep.equal(['second']);
    r.schedule('bob', 5, () => fired.push('cancelled'));
    r.cancel('bob');
    await new Promise((resolve) => setTimeout(resolve, 15));
    expect(fired).to.deep.equal(['second']);
    expect(r.has('bob')).to.equal(false);
  });
});
