/**
 * roommesh/react's shared connections, with a stand-in for Room.connect: pure logic, no React and no page.
 */
import { expect } from 'chai';
// The types roommesh/react itself names: the package's, as an app sees them.
import type { Room, RoomOptions } from 'roommesh';
import { ConnectionRegistry } from '../../bindings/react/connections.js';

const options: RoomOptions = { url: 'http://127.0.0.1:1', room: 'r', name: 'ada' };
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('roommesh/react connections', () => {
  it('a join that failed is not handed out again: the next provider to mount joins anew, also while the failed one is still mounted', async () => {
    const joins: RoomOptions[] = [];
    const registry = new ConnectionRegistry((o) => {
      joins.push(o);
      return Promise.reject(new Error('server unreachable'));
    });
    const first = registry.acquire(options);
    await settle();
    expect(first.getSnapshot()).to.include({ status: 'failed', room: undefined });
    expect(first.getSnapshot().error?.message).to.equal('server unreachable');
    expect(first.closed).to.equal(true);
    expect(registry.size).to.equal(0);
    // `<RoomProvider key={attempt}>`: React mounts the new provider and unmounts the old one in one commit.
    const second = registry.acquire(options);
    first.release(0);
    expect(second).to.not.equal(first);
    await settle();
    expect(joins).to.have.length(2);
    second.release(0);
  });

  it('providers that mount while a join is under way share it: one join', () => {
    let joins = 0;
    const registry = new ConnectionRegistry(() => {
      joins++;
      return new Promise<Room>(() => {}); // still joining
    });
    const a = registry.acquire(options);
    const b = registry.acquire(options);
    expect(b).to.equal(a);
    expect(joins).to.equal(1);
    expect(a.refs).to.equal(2);
  });
});
