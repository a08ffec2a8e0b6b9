/**
 * Request and reply between a Chromium page (the bundle, loaded from the signaling server) and a Node
 * participant: each asks the other, with attachments both ways, and a handler's failure crosses too.
 */
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { RequestError } from '../../lib/node.js';
import { DEFAULT_SERVER_OPTIONS } from '../../signaling/options.js';
import type { Chromium } from '../support/browser.js';
import { chromiumSuite } from '../support/browser-suite.js';
import { Harness, eventually, patterned, rejection } from '../support/harness.js';

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Runs in the page: joins the room, answers 'digest' like the Node fixture, and keeps the room on window. */
const PAGE_SETUP = (url: string): string => `(async () => {
  const { Room } = await import('/roommesh.js');
  const room = await Room.connect({ url: ${JSON.stringify(url)}, room: 'rpc-web', name: 'page' });
  const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
  room.messaging.handle('digest', async (req) => {
    const bytes = req.attachment ?? new Uint8Array(0);
    const sha256 = hex(await crypto.subtle.digest('SHA-256', bytes));
    return { message: { sha256, bytes: bytes.byteLength }, attachment: bytes.slice().reverse() };
  });
  await room.messaging.enable();
  window.room = room;
  return room.localParticipant.id;
})()`;

/** Runs in the page: asks the Node participant, returns what came back or how it failed. */
const PAGE_ASKS = `(async () => {
  const hex = async (b) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', b))]
    .map((x) => x.toString(16).padStart(2, '0')).join('');
  const m = window.room.messaging;
  const agent = m.getParticipantByName('agent');
  const sent = new Uint8Array(150 * 1024).map((_, i) => (i * 7) % 251);
  const reply = await m.request({ to: agent, type: 'upper', message: { text: 'from the page' }, attachment: sent });
  let failure;
  try {
    await m.request({ to: agent, type: 'boom', message: {} });
  } catch (err) {
    failure = { name: err.name, reason: err.reason, handlerMessage: err.handlerMessage };
  }
  return {
    message: reply.message,
    from: reply.from.name,
    sentSha: await hex(sent),
    replySha: await hex(reply.attachment),
    failure,
  };
})()`;

describe('request and reply between a Chromium page and a Node participant', function () {
  this.timeout(60_000);
  const h = new Harness();
  let browser: Chromium;
  let page: Page | undefined;

  chromiumSuite(
    h,
    (b) => (browser = b),
    () => page,
  );

  it('each asks the other, with attachments both ways (SHA-256), and a failed handler crosses as HandlerFailed', async () => {
    const server = await h.server({ staticDir: DEFAULT_SERVER_OPTIONS.staticDir });
    const agent = await h.join(server, 'rpc-web', 'agent');
    agent.messaging.handle('upper', (req) => ({
      message: { text: String(req.message.text).toUpperCase(), sha256: sha256(req.attachment!) },
      attachment: req.attachment!.slice().reverse(),
    }));
    agent.messaging.handle('boom', () => {
      throw new Error('no such table');
    });
    await agent.messaging.enable();
    page = await browser.newPage();
    await page.goto(`${server.url}/`);
    const pageId = await page.evaluate<string>(PAGE_SETUP(server.url));
    await eventually(() => agent.messaging.getParticipant(pageId) !== undefined, 10_000, 'the page present');

    // Node asks the page.
    const sent = patterned(200 * 1024 + 3, 9);
    const reply = await agent.messaging.request({ to: pageId, type: 'digest', message: {}, attachment: sent });
    expect(reply.message).to.deep.equal({ sha256: sha256(sent), bytes: sent.byteLength });
    expect(sha256(reply.attachment!)).to.equal(sha256(sent.slice().reverse()));
    const missing = await rejection(agent.messaging.request({ to: pageId, type: 'nothing', message: {} }));
    expect(missing).to.be.instanceOf(RequestError);
    expect((missing as RequestError).reason).to.equal('NoHandler');

    // The page asks Node.
    const asked = await page.evaluate<{
      message: { text: string; sha256: string };
      from: string;
      sentSha: string;
      replySha: string;
      failure: { name: string; reason: string; handlerMessage: string };
    }>(PAGE_ASKS);
    expect(asked.from).to.equal('agent');
    expect(asked.message).to.deep.equal({ text: 'FROM THE PAGE', sha256: asked.sentSha });
    const sentByPage = new Uint8Array(150 * 1024).map((_, i) => (i * 7) % 251);
    expect(asked.sentSha).to.equal(sha256(sentByPage));
    expect(asked.replySha).to.equal(sha256(sentByPage.slice().reverse()));
    expect(asked.failure).to.deep.equal({
      name: 'RequestError',
      reason: 'HandlerFailed',
      handlerMessage: 'no such table',
    });
    await page.evaluate('window.room.disconnect()');
  });
});
