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
      if ((prop === 'remove' || prop === 'removeIfHeld') && down)
        return () => Promise.reject(new Error('store unreachable'));
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

describe('ParticipantRegistry: a resume at the end of the grace', () => {
  const info = { id: 'p', name: 'p', joinedAtMs: 0 };
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  /** A registry over the one-process store with a short grace, and what it tells the peers. */
  async function heldParticipant(): Promise<{
    registry: ParticipantRegistry<object>;
    local: LocalMembershipStore;
    told: string[];
  }> {
    const local = new LocalMembershipStore({ parkMs: 60_000, restartWindowMs: 0, holdMs: 1000 });
    const told: string[] = [];
    const registry = new ParticipantRegistry<object>({
      store: local,
      logger: silentLogger,
      tell: (_room, ids, send) => {
        for (const id of ids) send({ emit: (event, data) => told.push(`${id}: ${event} ${data.id}`) });
      },
      resumeGraceMs: 50,
      retryEveryMs: 1000,
      evict: () => {},
    });
    for (const id of ['p', 'q']) {
      expect(await local.add('r', { ...info, id }, 0, `g-${id}`)).to.equal('ok');
      await local.enable('r', id);
      registry.handleJoin('r', id, {});
    }
    await registry.handleDisconnect('r', 'p', {}, false, 'transport close'); // held for 50 ms
    expect(told).to.deep.equal(['q: peer_disconnected p']);
    return { registry, local, told };
  }

  it('a hold that runs out while the resume is at the store waits for it, and is not removed when it resumed', async () => {
    const { registry, local, told } = await heldParticipant();
    registry.resuming('r', 'p');
    await sleep(120); // the grace ran out meanwhile
    expect(await local.get('r', 'p'), 'still there while the store answers').to.not.equal(undefined);
    const r = await local.resume('r', info, 0, true, { gen: 'g-p', epoch: await local.epoch(), next: 'g2' });
    expect(r.result).to.equal('resumed');
    registry.resumeSettled('r', 'p', true);
    registry.handleResume('r', 'p', {});
    await sleep(120);
    expect(await local.get('r', 'p')).to.not.equal(undefined);
    expect(registry.participants).to.equal(2);
    expect(told).to.deep.equal(['q: peer_disconnected p']);
    registry.close();
    await local.close();
  });

  it('a hold that ran out while a resume was at the store expires once the store refused it', async () => {
    const { registry, local, told } = await heldParticipant();
    registry.resuming('r', 'p');
    await sleep(120);
    registry.resumeSettled('r', 'p', false); // a spent token, say
    await registry.settled(1000);
    expect(await local.get('r', 'p')).to.equal(undefined);
    expect(registry.participants).to.equal(1);
    expect(told).to.deep.equal(['q: peer_disconnected p', 'q: peer_disabled p']);
    registry.close();
    await local.close();
  });
});

// Found by a review: with a token's `pid`, a participant can resume on another process of a fleet and leave
// there, and join again on this one, which still had something of the old presence: a half-open connection,
// a hold whose timer runs, or a removal waiting for a retry. None of them may hold or remove the new member.
describe('ParticipantRegistry: what this process still had of an id that comes back', () => {
  const info = { id: 'p', name: 'p', joinedAtMs: 0 };
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

  function registryOver(store: MembershipStore, evicted: object[], retryEveryMs = 1000): ParticipantRegistry<object> {
    return new ParticipantRegistry<object>({
      store,
      logger: silentLogger,
      tell: () => {},
      resumeGraceMs: 50,
      retryEveryMs,
      evict: (old) => evicted.push(old),
    });
  }

  it('a join of the same id evicts the old connection that still stood for it here', async () => {
    const local = new LocalMembershipStore({ parkMs: 60_000, restartWindowMs: 0, holdMs: 1000 });
    const evicted: object[] = [];
    const registry = registryOver(local, evicted);
    const [oldConn, newConn] = [{ conn: 'old' }, { conn: 'new' }];
    expect(await local.add('r', info, 0, 'g1')).to.equal('ok');
    registry.handleJoin('r', 'p', oldConn);
    await local.remove('r', 'p', false); // it resumed on another process and said goodbye there
    expect(await local.add('r', info, 0, 'g2')).to.equal('ok');
    registry.handleJoin('r', 'p', newConn);
    // Evicted, the old connection forgets the member, so its close removes nothing (server.ts).
    expect(evicted).to.deep.equal([oldConn]);
    expect(registry.participants).to.equal(1);
    registry.close();
    await local.close();
  });

  it("a join of the same id stops the old presence's hold, whose end would remove the new member", async () => {
    const local = new LocalMembershipStore({ parkMs: 60_000, restartWindowMs: 0, holdMs: 1000 });
    const registry = registryOver(local, []);
    expect(await local.add('r', info, 0, 'g1')).to.equal('ok');
    registry.handleJoin('r', 'p', {});
    await registry.handleDisconnect('r', 'p', {}, false, 'transport close'); // held here for 50 ms
    await local.remove('r', 'p', false); // then gone from the store (elsewhere, in a fleet)
    expect(await local.add('r', info, 0, 'g2')).to.equal('ok');
    registry.handleJoin('r', 'p', {});
    await sleep(150);
    await registry.settled(1000);
    expect(await local.get('r', 'p'), 'the new member').to.not.equal(undefined);
    expect(registry.participants).to.equal(1);
    registry.close();
    await local.close();
  });

  it('a resume drops the removal of the same member still waiting for a retry', async () => {
    const { store, local, setDown } = switchableStore();
    const registry = registryOver(store, [], 50);
    expect(await local.add('r', info, 0, 'g1')).to.equal('ok');
    registry.handleJoin('r', 'p', {});
    await registry.handleDisconnect('r', 'p', {}, false, 'transport close'); // held for 50 ms
    setDown(true);
    await sleep(100); // the hold ran out; its removal failed and waits for a retry
    await registry.settled(1000);
    const r = await local.resume('r', info, 0, true, { gen: 'g1', epoch: await local.epoch(), next: 'g2' });
    expect(r.result).to.equal('resumed');
    registry.handleResume('r', 'p', {});
    setDown(false);
    await sleep(200); // several retry ticks
    await registry.settled(1000);
    expect(await local.get('r', 'p'), 'the resumed member').to.not.equal(undefined);
    registry.close();
    await local.close();
  });
});
