/**
 * The Redis membership store on a real redis-server, below the server: what it keeps for members removed
 * without a goodbye stays bounded, as the one-process store's does.
 */
import { expect } from 'chai';
import { silentLogger } from '../../lib/node.js';
import { connectRedis, type RedisClient } from '../../signaling/redis-client.js';
import { RedisMembershipStore } from '../../signaling/redis-membership.js';
import { startRedis, stopAll, until } from '../support/processes.js';

describe('RedisMembershipStore (real redis-server)', function () {
  this.timeout(20_000);
  let client: RedisClient | undefined;
  let store: RedisMembershipStore | undefined;
  after(async () => {
    await store?.close();
    client?.destroy();
    await stopAll();
  });

  it('keeps at most maxParked parked generations over the fleet: past it the oldest go, their tokens with them', async () => {
    const redis = await startRedis();
    client = connectRedis(redis.url, silentLogger);
    await until(() => client!.isReady, 5000, 'redis');
    const prefix = 'parked-cap:';
    store = new RedisMembershipStore(client, {
      keyPrefix: prefix,
      heartbeatMs: 1000,
      timeoutMs: 5000,
      logger: silentLogger,
      parkMs: 60_000,
      restartWindowMs: 0,
      holdMs: 1000,
      maxParked: 3,
    });
    const info = (i: number) => ({ id: `p${i}`, name: `p${i}`, joinedAtMs: i });
    // Five members join and drop without a goodbye (as a client that joins and cuts its connection would).
    for (let i = 1; i <= 5; i++) {
      expect(await store.add('r', info(i), 0, `g${i}`)).to.equal('ok');
      expect((await store.remove('r', `p${i}`, true)).existed).to.equal(true);
    }
    expect(await client.keys(`${prefix}parked:*`)).to.have.length(3);
    expect(await client.zCard(`${prefix}parked-index`)).to.equal(3);
    const epoch = await store.epoch();
    const resume = (i: number) => store!.resume('r', info(i), 0, false, { gen: `g${i}`, epoch, next: `n${i}` });
    // The two oldest went: their tokens fail. The newest comes back, and leaves the index.
    expect(await resume(1)).to.deep.equal({ result: 'Stale' });
    expect(await resume(2)).to.deep.equal({ result: 'Stale' });
    expect((await resume(5)).result).to.equal('created');
    expect(await client.zCard(`${prefix}parked-index`)).to.equal(2);
    expect(await client.keys(`${prefix}parked:*`)).to.have.length(2);
  });
});
