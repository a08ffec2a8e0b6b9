import { expect } from 'chai';
import { PING_TYPE, pingBytes, pingPayload, smallPayload } from '../../bench/participant/message.js';

describe('bench latency requests', () => {
  it('pads a request so that its JSON, type included, is as long as asked, in the small payload’s key order', () => {
    for (const bytes of [1000, 10240]) {
      const payload = pingPayload(7, bytes);
      expect(Object.keys(payload)).to.deep.equal(['seq', 'x', 'y', 'user', 'note', 'pad']);
      expect(payload.seq).to.equal(7);
      expect(JSON.stringify({ type: PING_TYPE, ...payload })).to.have.length(bytes);
      expect(new TextDecoder().decode(pingBytes(7, bytes))).to.equal(JSON.stringify({ type: PING_TYPE, ...payload }));
    }
  });

  it('sends the small payload unpadded when the size asked is below it', () => {
    expect(pingPayload(3, 50)).to.deep.equal(smallPayload(3));
  });
});
