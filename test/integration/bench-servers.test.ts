import { existsSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { SERVER_NODE_FLAGS, serverSample, startServers } from '../../bench/runtime/servers.js';

// The bench's servers run as README's "Relaying files fast" advises an operator who relays files; without the
// flag, a relayed attachment after the small-messages scenario paid for a full collection every few MiB.
describe('bench servers process', function () {
  this.timeout(30_000);

  it('starts the servers process with the flags README advises for relaying files, and serves its metrics', async function () {
    if (!existsSync('/proc/self/cmdline')) this.skip(); // Linux only: the flags are read from the process table
    const servers = await startServers();
    try {
      const argv = readFileSync(`/proc/${servers.pid}/cmdline`, 'utf8').split('\0');
      for (const flag of SERVER_NODE_FLAGS) expect(argv).to.include(flag);
      const sample = await serverSample(servers.signalingUrl);
      expect(sample.cpuMs).to.be.greaterThan(0);
    } finally {
      await servers.stop();
    }
  });
});
