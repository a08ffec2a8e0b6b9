/**
 * ParticipantRegistry: what the process keeps beside the membership store. Its store here is the
 * single-process one behind a switch that makes removals fail, as an unreachable Redis does.
 */
import { expect } from 'chai';
import { LocalMembershipStore, type MembershipStore } from '../../signaling/membership.js';
import { ParticipantRegistry } from '../../signaling/participant-registry.js';
import { silentLogger } from '../../lib/node.js';

/** A store whose removals fail while `down` (and which says it is unhealthy then). */
function switchableStore(): {
  store: MembershipStore;
  local: LocalMembershipStore;
  setDown: (down: boolean) => void;
} {
  const local = new LocalMembershipStore({ parkMs: 60_000, restartWindowMs: 0, holdMs: 1000 });
  let down = false;
  const store = new Proxy(local, {
    get(target, prop, receiver) {
      if (prop === 'healthy') return !down;
      if (prop === 'remove' && down) return () => Promise.reject(new Error('store unreachable'));
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store, local, setDown: (d) => (down = d) };
}

describe('ParticipantRegistry', () => {
  it('retries the failed removals of one participant id in two rooms, each (a token pid may be in several)', async () => {
    const { store, local, setDown } = switchableStore();
    const told: string[] = [];
    const registry = new ParticipantRegistry<object>({
      store,
      logger: silentLogger,
      tell: (room, ids) => told.push(`${room}:${ids.join(',')}`),
      resumeGraceMs: 1000,
      retryEveryMs: 20,
      evict: () => {},
    });
    const info = (id: string) => ({ id, name: id, joinedAtMs: 0 });
    for (const room of ['r1', 'r2']) expect(await local.add(room, info('p'), 0, 'g')).to.equal('ok');
    const conns = { r1: {}, r2: {} };
    registry.handleJoin('r1', 'p', conns.r1);
    registry.handleJoin('r2', 'p', conns.r2);
    setDown(true);
    // Both say goodbye while the store cannot be reached: both removals wait for a retry.
    await registry.handleDisconnect('r1', 'p', conns.r1, true, 'client namespace disconnect');
    await registry.handleDisconnect('r2', 'p', conns.r2, true, 'client namespace disconnect');
    expect(await local.get('r1', 'p')).to.not.equal(undefined);
    setDown(false);
    const gone = async (): Promise<boolean> =>
      (await local.get('r1', 'p')) === undefined && (await local.get('r2', 'p')) === undefined;
    for (const until = Date.now() + 1500; !(await gone()) && Date.now() < until;)
      await new Promise((r) => setTimeout(r, 20));
    expect(await local.get('r1', 'p'), 'removed from r1').to.equal(undefined);
    expect(await local.get('r2', 'p'), 'removed from r2').to.equal(undefined);
    registry.close();
    await local.close();
  });
});
