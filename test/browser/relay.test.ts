/**
 * The relayed path in Chromium: WebCrypto sealing in a page, the relay both ways. Two demo pages that may
 * only be relayed (`?paths=relay`), and a page with a Node participant in a network namespace of its own,
 * which the page can reach through the signaling server only.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { DEFAULT_SERVER_OPTIONS } from '../../signaling/options.js';
import type { Chromium } from '../support/browser.js';
import { chromiumSuite } from '../support/browser-suite.js';
import { DemoPage } from '../support/demo-page.js';
import { Harness, bytes } from '../support/harness.js';
import { NetnsLab, lastEvent, waitForEvent } from '../support/netns.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/relay-participant.js', import.meta.url));
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('Chromium pages on the relayed path', function () {
  this.timeout(60_000);
  const h = new Harness();
  let browser: Chromium;
  const pages: DemoPage[] = [];

  chromiumSuite(
    h,
    (b) => (browser = b),
    () => ({ close: () => Promise.all(pages.splice(0).map((p) => p.close())) }),
  );

  it('two pages that may only be relayed see each other as relayed and exchange a message and a file', async () => {
    const server = await h.server({ staticDir: DEFAULT_SERVER_OPTIONS.staticDir });
    const alice = await DemoPage.join(browser, server.url, 'relayed', 'alice', 'relay');
    pages.push(alice);
    const bob = await DemoPage.join(browser, server.url, 'relayed', 'bob', 'relay');
    pages.push(bob);
    await alice.waitForOthers(['bob']);
    await bob.waitForOthers(['alice']);
    expect(await bob.person('alice').getAttribute('aria-label')).to.equal('alice, status available, relayed');

    const hi = await alice.say('hello over the relay');
    expect(await alice.deliveryOf(hi)).to.deep.equal({ state: 'delivered', text: '✓ Delivered to bob' });
    await bob.received('alice', 'hello over the relay').waitFor();
    const file = Buffer.from(bytes(300 * 1024, 21));
    const sent = await alice.sendFile(
      { name: 'sealed.bin', mimeType: 'application/octet-stream', buffer: file },
      'a file',
    );
    expect((await alice.deliveryOf(sent)).state).to.equal('delivered');
    const got = bob.received('alice', 'sealed.bin');
    await got.getByRole('link', { name: 'Download sealed.bin' }).waitFor();
    expect(await bob.sha256OfDownload(got)).to.equal(sha256(file));
  });

  describe('a page and a Node participant that cannot reach each other directly', () => {
    const lab = new NetnsLab('roommesh-page-relay');
    before(function () {
      if (!NetnsLab.available()) this.skip(); // needs root and iproute2's `ip netns`
    });
    after(() => lab.close());

    it('are present to each other over the relay, and messages go both ways', async () => {
      const server = await h.server({ staticDir: DEFAULT_SERVER_OPTIONS.staticDir });
      await lab.forwardTo(server.port);
      const agent = await lab.start(
        lab.namespace('agent'),
        FIXTURE,
        [lab.socketPath, 'mixed', 'agent', 'relay-first'],
        'agent',
      );
      const page = await DemoPage.join(browser, server.url, 'mixed', 'alice');
      pages.push(page);
      await page.waitForOthers(['agent']);
      await page.person('agent').locator('.channel[data-state="relayed"]').waitFor();

      const hi = await page.say('hi agent');
      expect(await page.deliveryOf(hi)).to.deep.equal({ state: 'delivered', text: '✓ Delivered to agent' });
      await waitForEvent(agent, (e) => (e.got as { text?: string })?.text === 'hi agent', 5000, 'the agent gets it');
      const aliceId = lastEvent(agent, (e) => e.added === 'alice')?.id as string;
      agent.proc.send({ send: { to: aliceId, n: 7 } });
      await page.log.locator('li.msg[data-type="n"]').waitFor();
      await waitForEvent(agent, (e) => (e.sent as { n?: number })?.n === 7, 5000, 'the acknowledgement');
      expect(lastEvent(agent, (e) => e.sent !== undefined)?.sent).to.deep.equal({ n: 7, ok: true });
    });
  });
});
