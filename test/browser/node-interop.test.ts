/**
 * A Chromium page (the demo, driven through its controls) and a Node participant (the library in this
 * process, node-datachannel) in one room: messages and attachments both ways, and presence both ways.
 */
import { createHash } from 'node:crypto';
import { expect } from 'chai';
import type { ReceivedMessage } from '../../lib/node.js';
import { DEFAULT_SERVER_OPTIONS } from '../../signaling/options.js';
import type { SignalingServer } from '../../signaling/server.js';
import type { Chromium } from '../support/browser.js';
import { chromiumSuite } from '../support/browser-suite.js';
import { DemoPage } from '../support/demo-page.js';
import { Harness, bytes, eventually, nextEvent } from '../support/harness.js';

/** Attachment size each way; fits in one frame today. */
const ATTACHMENT_BYTES = 200 * 1024;

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('Chromium page and Node participant', function () {
  this.timeout(60_000);
  const h = new Harness();
  let browser: Chromium;
  let page: DemoPage | undefined;

  chromiumSuite(
    h,
    (b) => (browser = b),
    () => page,
  );

  it('see each other, and exchange messages and attachments in both directions', async () => {
    const web = await demoServer(h);
    const agent = await h.join(web, 'mixed', 'agent', { attributes: { role: 'agent', version: 2 } });
    await agent.messaging.enable();

    page = await DemoPage.join(browser, web.url, 'mixed', 'alice');
    await page.waitForOthers(['agent']);
    await page.person('agent').filter({ hasText: 'role: agent' }).waitFor();
    await eventually(
      () => agent.messaging.getParticipantByName('alice') !== undefined,
      10_000,
      'alice present at the agent',
    );
    const alice = agent.messaging.getParticipantByName('alice')!;
    expect(alice.attributes).to.deep.equal({ status: 'available' });

    // Node → page: a chat message, a file, and a message of a type the demo does not know.
    await agent.messaging.sendMessage({ to: alice, type: 'chat', message: { text: 'hello from node' } });
    await page.received('agent', 'hello from node').waitFor();
    const toPage = bytes(ATTACHMENT_BYTES, 11);
    await agent.messaging.sendMessage({
      to: alice,
      type: 'file',
      message: { name: 'report.bin', mime: 'application/octet-stream' },
      attachment: toPage,
    });
    const file = page.received('agent', 'report.bin');
    await file.getByRole('link', { name: 'Download report.bin' }).waitFor();
    expect(await page.sha256OfDownload(file)).to.equal(sha256(toPage));
    await agent.messaging.sendMessage({ to: alice, type: 'telemetry', message: { cpu: 0.25, ok: true } });
    const telemetry = page.log.locator('li.msg[data-type="telemetry"]');
    await telemetry.waitFor();
    expect(JSON.parse((await telemetry.locator('pre').textContent())!)).to.deep.equal({ cpu: 0.25, ok: true });

    // Page → Node: a broadcast, a direct message, and a file.
    const got: ReceivedMessage[] = [];
    agent.messaging.on('message', (m) => got.push(m));
    const hi = await page.say('hi agent');
    expect(await page.deliveryOf(hi)).to.deep.equal({ state: 'delivered', text: '✓ Delivered to agent' });
    await page.selectRecipient('agent');
    const direct = await page.say('only for you');
    expect((await page.deliveryOf(direct)).state).to.equal('delivered');
    const toNode = Buffer.from(bytes(ATTACHMENT_BYTES, 12));
    const sent = await page.sendFile(
      { name: 'photo.raw', mimeType: 'application/octet-stream', buffer: toNode },
      'a file for node',
    );
    expect(await page.deliveryOf(sent)).to.deep.equal({ state: 'delivered', text: '✓ Delivered to agent' });

    await eventually(() => got.length === 3, 10_000, 'three messages at the agent');
    expect(got.map((m) => [m.from.name, m.type, m.message])).to.deep.equal([
      ['alice', 'chat', { text: 'hi agent' }],
      ['alice', 'chat', { text: 'only for you', direct: true }],
      [
        'alice',
        'file',
        {
          text: 'a file for node',
          direct: true,
          name: 'photo.raw',
          mime: 'application/octet-stream',
          size: ATTACHMENT_BYTES,
        },
      ],
    ]);
    expect(got[2]!.attachment).to.be.instanceOf(Uint8Array);
    expect(sha256(got[2]!.attachment!)).to.equal(sha256(toNode));
  });

  it('the page leaving removes it at the Node participant, and the Node participant leaving removes it from the page', async () => {
    const server = await demoServer(h);
    const agent = await h.join(server, 'leaving', 'agent');
    await agent.messaging.enable();
    const first = await DemoPage.join(browser, server.url, 'leaving', 'alice');
    page = first;
    await first.waitForOthers(['agent']);
    await eventually(() => agent.messaging.getParticipantByName('alice') !== undefined, 10_000, 'alice present');

    const removed = nextEvent(agent.messaging, 'participant_removed');
    await first.page.getByRole('button', { name: 'Leave' }).click();
    expect((await removed)[0].name).to.equal('alice');
    await first.page.getByRole('button', { name: 'Join' }).click(); // the form kept room and name
    await first.waitForOthers(['agent']);

    await agent.disconnect();
    await first.waitForOthers([]);
    await first.log.getByText('agent left').waitFor();
  });

  it('a default-settings server restarted under them: each re-joins under a new id and the other follows it, proven by its relay key in either runtime', async () => {
    const first = await demoServer(h);
    const agent = await h.join(first, 'restart', 'agent');
    await agent.messaging.enable();
    page = await DemoPage.join(browser, first.url, 'restart', 'alice');
    await page.waitForOthers(['agent']);
    // The move is told on the channel that stays: the direct one (the relayed link goes with the server).
    await eventually(
      () => agent.messaging.getParticipantByName('alice')?.linkState === 'direct',
      15_000,
      'alice on a direct channel at the agent',
    );
    await page.people.locator('[data-state="direct"]').waitFor();
    const aliceBefore = agent.messaging.getParticipantByName('alice')!.id;
    const removed: string[] = [];
    agent.messaging.on('participant_removed', (p) => removed.push(p.name));
    const followed = nextEvent(agent.messaging, 'participant_id_changed', 30_000);
    const agentBack = nextEvent(agent, 'signaling_rejoined', 30_000);

    // The same address, a new server: it cannot read anyone's resume token.
    await first.close();
    h.servers.splice(h.servers.indexOf(first), 1);
    await h.server({ staticDir: DEFAULT_SERVER_OPTIONS.staticDir, port: Number(new URL(first.url).port) });
    const [agentId] = await agentBack;
    // The agent checked the page's proof (WebCrypto made it), the page the agent's (node:crypto made it).
    const [alice, previousId] = await followed;
    expect([alice.name, previousId]).to.deep.equal(['alice', aliceBefore]);
    expect(alice.id).to.not.equal(aliceBefore);
    await page.people.locator(`li[data-participant-id="${agentId}"]`).waitFor({ timeout: 15_000 });
    await agent.messaging.sendMessage({ to: alice, type: 'chat', message: { text: 'after the restart' } });
    await page.received('agent', 'after the restart').waitFor();
    expect(removed).to.deep.equal([]);
    expect(await page.log.getByText('agent left').count()).to.equal(0);
    expect(await page.others()).to.deep.equal(['agent']);
  });
});

/** A signaling server that also serves the demo (the harness's serve no page); the harness closes it. */
function demoServer(h: Harness): Promise<SignalingServer> {
  return h.server({ staticDir: DEFAULT_SERVER_OPTIONS.staticDir });
}
