/**
 * Closing the signaling server: its clients are disconnected, its port stops answering, and a second
 * close() is the same close.
 */
import { expect } from 'chai';
import { Harness } from '../support/harness.js';
import { httpExact } from '../support/processes.js';
import { closeRawClients, next, participant } from '../support/raw-client.js';

describe('signaling server close()', () => {
  const h = new Harness();
  after(async () => {
    closeRawClients();
    await h.close();
  });

  it('disconnects connected clients, stops listening, and can be called twice', async () => {
    const server = await h.server();
    const a = await participant(server.url, 'room', 'alice');
    const dropped = next(a.s, 'disconnect');
    const first = server.close();
    expect(server.close()).to.equal(first);
    await first;
    await dropped;
    const refused = await httpExact(server.port, '/healthz').then(
      () => false,
      () => true,
    );
    expect(refused, 'the port should no longer answer').to.equal(true);
  });
});
