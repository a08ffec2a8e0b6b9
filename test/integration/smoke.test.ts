import { expect } from 'chai';
import { Harness, nextEvent } from '../support/harness.js';
import type { ReceivedMessage } from '../../lib/node.js';

describe('smoke', () => {
  const h = new Harness();
  after(() => h.close());

  it('two participants find each other and exchange a message', async () => {
    const server = await h.server();
    const [alice, bob] = await h.mesh(server, 'smoke', ['alice', 'bob']);
    const got = nextEvent<[ReceivedMessage]>(bob!.messaging as never, 'message');
    await alice!.messaging.sendMessage({ to: bob!.localParticipant.id, type: 'chat', message: { text: 'hi' } });
    const [m] = await got;
    expect(m.type).to.equal('chat');
    expect(m.message).to.deep.equal({ text: 'hi' });
    expect(m.from.name).to.equal('alice');
  });
});
