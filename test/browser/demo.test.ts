/**
 * The demo page in real Chromium (Debian's, through playwright-core): pages join a room served by a real
 * signaling server, see each other, chat and send files over real WebRTC data channels, and one leaving
 * disappears from the others' lists. Everything is driven through the page's own controls.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { createSignalingServer, type SignalingServer } from '../../signaling/server.js';
import { Chromium } from '../support/browser.js';
import { DemoPage, type PickedFile } from '../support/demo-page.js';
import { Harness, bytes, eventually } from '../support/harness.js';

/** The file of the large-transfer test. Needs chunked attachments (the lead's change); one frame holds 256 KiB. */
const LARGE_FILE_BYTES = 5 * 1024 * 1024;
/** The file of the cancel test (also needs chunked attachments): large enough to be still in flight when cancelled. */
const CANCELLED_FILE_BYTES = 64 * 1024 * 1024;
/** A file that fits in one frame today. */
const SMALL_FILE_BYTES = 150 * 1024;
const ARTIFACTS = fileURLToPath(new URL('../../../test-artifacts/', import.meta.url));

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('demo page in Chromium', function () {
  // Generous: three Chromium tabs and a server on two cores shared with other work can be slow.
  this.timeout(120_000);
  let server: SignalingServer;
  let browser: Chromium;
  let pages: DemoPage[] = [];
  /** Node participants, for what the page cannot be made to send. */
  const h = new Harness();
  let roomCount = 0;
  const nextRoom = (): string => `demo-${++roomCount}`;

  /** Joins `names` to a new room, one after another, and waits until everyone sees everyone. */
  async function meet(names: string[]): Promise<DemoPage[]> {
    const room = nextRoom();
    const joined: DemoPage[] = [];
    for (const name of names) {
      const page = await DemoPage.join(browser, server.url, room, name);
      pages.push(page);
      joined.push(page);
    }
    await Promise.all(joined.map((p) => p.waitForOthers(names.filter((n) => n !== p.name))));
    return joined;
  }

  before(async () => {
    server = await createSignalingServer({ port: 0, host: '127.0.0.1' }); // serves demo/ and /roommesh.js
    browser = await Chromium.launch();
  });
  afterEach(async function () {
    await h.close();
    await Promise.all(pages.map((p) => p.close().catch(() => {})));
    pages = [];
    const problems = browser.problems.splice(0);
    if (this.currentTest?.state === 'passed') expect(problems, 'errors the pages reported').to.deep.equal([]);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  it('two pages join one room and each lists the other with its attributes', async () => {
    const [alice, bob] = await meet(['alice', 'bob']);
    expect(await alice!.others()).to.deep.equal(['bob']);
    expect(await bob!.others()).to.deep.equal(['alice']);
    await bob!.person('alice').filter({ hasText: 'available' }).waitFor();

    await alice!.page.getByRole('combobox', { name: 'My status' }).selectOption('busy');
    await bob!.person('alice').filter({ hasText: 'busy' }).waitFor();
    // Both pages share a network: present over the relay at once, then direct once the channel opens.
    await bob!.person('alice').locator('.channel[data-state="direct"]').waitFor();
    expect(await bob!.person('alice').getAttribute('aria-label')).to.equal('alice, status busy, direct');
  });

  it('three pages: a broadcast reaches both others, a direct message only the selected one, each confirmed', async () => {
    const [alice, bob, carol] = await meet(['alice', 'bob', 'carol']);

    const hello = await alice!.say('hello everyone');
    expect(await alice!.deliveryOf(hello)).to.deep.equal({ state: 'delivered', text: '✓ Delivered to bob and carol' });
    for (const p of [bob!, carol!]) {
      const entry = p.received('alice', 'hello everyone');
      await entry.waitFor();
      expect(await entry.locator('.badge').allTextContents()).to.deep.equal(['chat']);
      expect(await entry.locator('time').getAttribute('datetime')).to.match(/^\d{4}-\d\d-\d\dT/);
    }

    await alice!.person('bob').click(); // selecting someone in the list makes them the recipient
    expect(await alice!.page.getByRole('combobox', { name: 'To' }).inputValue()).to.not.equal('');
    const secret = await alice!.say('just for bob');
    expect(await alice!.deliveryOf(secret)).to.deep.equal({ state: 'delivered', text: '✓ Delivered to bob' });
    const atBob = bob!.received('alice', 'just for bob');
    await atBob.waitFor();
    // No "to you": the receiver cannot tell a direct message from a broadcast (see the next test).
    expect(await atBob.locator('.badge').allTextContents()).to.deep.equal(['chat']);
    expect(await alice!.sent('just for bob').locator('.badge').allTextContents()).to.deep.equal(['chat', 'to bob']);

    // Messages from one sender arrive in order: once carol has the next broadcast, the direct one would be there.
    await alice!.selectRecipient(null);
    await alice!.say('back to everyone');
    await carol!.received('alice', 'back to everyone').waitFor();
    expect(await carol!.received('alice', 'just for bob').count()).to.equal(0);

    const reply = await carol!.say('hi from carol');
    expect(await carol!.deliveryOf(reply)).to.deep.equal({ state: 'delivered', text: '✓ Delivered to alice and bob' });
    await alice!.received('carol', 'hi from carol').waitFor();
    await bob!.received('carol', 'hi from carol').waitFor();
  });

  it('what a sender claims is not shown as fact: no "to you" on a broadcast marked direct; no bidi tricks in file names', async () => {
    const [bob] = await meet(['bob']);
    const mallory = await h.join(server, bob!.room, 'mallory');
    await mallory.messaging.enable();
    await bob!.waitForOthers(['mallory']);
    await eventually(() => mallory.messaging.remoteParticipants.length === 1, 10_000, 'bob present at mallory');

    const claim = await mallory.messaging.broadcastMessage({
      type: 'chat',
      message: { text: 'only for you', direct: true },
    });
    expect(claim.delivered).to.have.length(1);
    const spoofed = bob!.received('mallory', 'only for you');
    await spoofed.waitFor();
    expect(await spoofed.locator('.badge').allTextContents()).to.deep.equal(['chat']);

    // U+202E (right-to-left override) would show this as "invoiceexe.pdf" and save it as an .exe.
    const name = 'invoice\u202efdp.exe';
    await mallory.messaging.broadcastMessage({
      type: 'file',
      message: { name, mime: 'application/pdf' },
      attachment: bytes(1000, 5),
    });
    const file = bob!.received('mallory', 'invoicefdp.exe');
    const link = file.getByRole('link', { name: 'Download invoicefdp.exe' });
    await link.waitFor();
    expect(await link.getAttribute('download')).to.equal('invoicefdp.exe');
    expect(await file.locator('.file-name').textContent()).to.equal('invoicefdp.exe');
  });

  it('a name with bidirectional controls shows without them, in the list and the log; a reload offers the name again', async () => {
    const [bob] = await meet(['bob']);
    // U+202E would show "eve (admin)" as "eve(nimda)" and reverse the text around it.
    const eve = await h.join(server, bob!.room, 'eve\u202e (admin)');
    await eve.messaging.enable();
    await bob!.waitForOthers(['eve (admin)']);
    await bob!.log.getByText('eve (admin) joined', { exact: true }).waitFor();
    await bob!.page.reload();
    expect(await bob!.page.getByRole('textbox', { name: 'Your name' }).inputValue()).to.equal('bob');
  });

  it(`a ${LARGE_FILE_BYTES / 1024 / 1024} MiB file arrives byte-identical, its progress bar at 100% on every side`, async () => {
    const [alice, bob, carol] = await meet(['alice', 'bob', 'carol']);
    const file: PickedFile = {
      name: 'large.bin',
      mimeType: 'application/octet-stream',
      buffer: Buffer.from(bytes(LARGE_FILE_BYTES, 7)),
    };

    const entry = await alice!.sendFile(file, 'the big one');
    const delivery = await alice!.deliveryOf(entry, 60_000);
    expect(delivery, 'the sender sees it delivered').to.deep.equal({
      state: 'delivered',
      text: '✓ Delivered to bob and carol',
    });
    const sent = await alice!.progressTrace(file.name);
    expect(sent?.values.at(-1), 'sender progress at the end').to.equal(LARGE_FILE_BYTES);
    expect(sent?.max).to.equal(LARGE_FILE_BYTES);

    for (const p of [bob!, carol!]) {
      const got = p.received('alice', file.name);
      await got.getByRole('link', { name: 'Download large.bin' }).waitFor();
      expect(await p.sha256OfDownload(got), `${p.name}'s copy`).to.equal(sha256(file.buffer));
      const trace = await p.progressTrace(file.name);
      expect(trace?.max).to.equal(LARGE_FILE_BYTES);
      expect(trace?.values.at(-1), `${p.name}'s progress at the end`).to.equal(LARGE_FILE_BYTES);
      // The bar moved while the bytes arrived, not only at the end.
      expect(
        trace?.values.some((v) => v > 0 && v < LARGE_FILE_BYTES),
        `${p.name} saw progress before the end: ${trace?.values.join(',')}`,
      ).to.equal(true);
      expect(await got.locator('.file').getAttribute('data-state')).to.equal('done');
    }
    expect(
      sent?.values.some((v) => v > 0 && v < LARGE_FILE_BYTES),
      `the sender saw progress before the end: ${sent?.values.join(',')}`,
    ).to.equal(true);
  });

  it('a file send cancelled half-way says so on both sides', async () => {
    const [alice, bob] = await meet(['alice', 'bob']);
    // Made in the page (handing the picker tens of MiB from here takes seconds), large enough to be cancelled in flight.
    await alice!.page.getByLabel('Attach file').evaluate((input: HTMLInputElement, size: number) => {
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i += 65_536) crypto.getRandomValues(bytes.subarray(i, i + 65_536));
      const files = new DataTransfer();
      files.items.add(new File([bytes], 'huge.bin', { type: 'application/octet-stream' }));
      input.files = files.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    }, CANCELLED_FILE_BYTES);
    await alice!.page.getByRole('button', { name: 'Send', exact: true }).click();
    const sent = alice!.log.locator('li.msg.mine').filter({ hasText: 'huge.bin' });
    const arriving = bob!.received('alice', 'huge.bin');
    const ended = alice!.deliveryOf(sent, 60_000);
    await Promise.race([
      arriving.waitFor(),
      ended.then((d) => Promise.reject(new Error(`the send ended before it could be cancelled: ${d.text}`))),
    ]);
    await alice!.page.getByRole('button', { name: 'Cancel sending huge.bin' }).click();

    expect(await ended).to.deep.equal({ state: 'failed', text: '✗ Not delivered: Cancelled.' });
    await arriving.locator('.file[data-state="failed"]').filter({ hasText: 'alice cancelled it' }).waitFor();
    expect(await arriving.getByRole('link').count(), 'no download of a cancelled file').to.equal(0);
  });

  it('an image attachment is shown inline; any other file is offered as an opaque download', async () => {
    const [alice, bob] = await meet(['alice', 'bob']);
    const png = await renderPng(browser, 'sketch.png');
    await alice!.sendFile({ name: 'sketch.png', mimeType: 'image/png', buffer: png });
    const image = bob!.received('alice', 'sketch.png').getByRole('img', { name: 'Image sketch.png' });
    await image.waitFor();
    expect(await image.evaluate((img: HTMLImageElement) => img.decode().then(() => img.naturalWidth))).to.equal(320);

    const data = Buffer.from(bytes(SMALL_FILE_BYTES, 3));
    const html = await alice!.sendFile({ name: 'notes.html', mimeType: 'text/html', buffer: data });
    expect((await alice!.deliveryOf(html)).state).to.equal('delivered');
    const got = bob!.received('alice', 'notes.html');
    await got.getByRole('link', { name: 'Download notes.html' }).waitFor();
    expect(await got.getByRole('img').count()).to.equal(0);
    expect(await bob!.sha256OfDownload(got)).to.equal(sha256(data));
    // Opened from its blob: URL, an HTML file would run as this page's origin; it is handed over as bytes instead.
    const type = await got
      .getByRole('link')
      .evaluate(async (a: HTMLAnchorElement) => (await (await fetch(a.href)).blob()).type);
    expect(type).to.equal('application/octet-stream');
  });

  it("a page that closes disappears from the others' presence lists, and the server lets it go at once", async () => {
    const [alice, bob, carol] = await meet(['alice', 'bob', 'carol']);
    await carol!.close();
    pages = pages.filter((p) => p !== carol);
    await alice!.waitForOthers(['bob']);
    await bob!.waitForOthers(['alice']);
    await alice!.log.getByText('carol left').waitFor();
    // The page told the server as it closed: not held for a resume (15 s) like a dropped connection, when a
    // newcomer's enable() would have found carol listed.
    await eventually(() => server.stats().participants === 2, 5000, 'the server lets carol go at once');
    expect(await alice!.page.getByRole('combobox', { name: 'To' }).locator('option').allTextContents()).to.deep.equal([
      'Everyone',
      'bob',
    ]);
  });

  it('works with the keyboard alone: join, send, pick a recipient', async () => {
    const [bob] = await meet(['bob']);
    const page = await browser.newPage();
    const alice = page.keyboard;
    await page.goto(`${server.url}/?room=${encodeURIComponent(bob!.room)}`);
    await alice.type('alice'); // the name field has the focus when the room is in the URL
    await alice.press('Enter');
    await page.getByRole('textbox', { name: 'Message' }).and(page.locator(':focus')).waitFor();
    await alice.type('typed, not clicked');
    await alice.press('Enter');
    await bob!.received('alice', 'typed, not clicked').waitFor();

    const bobButton = page.getByRole('list', { name: 'Participants' }).getByRole('button', { name: /^bob\b/ });
    await bobButton.waitFor();
    for (let i = 0; i < 12 && !(await bobButton.evaluate((el) => el === document.activeElement)); i++)
      await alice.press('Shift+Tab');
    await alice.press('Space');
    expect(await bobButton.getAttribute('aria-pressed')).to.equal('true');
    expect(await page.getByRole('combobox', { name: 'To' }).locator('option:checked').textContent()).to.equal('bob');
    await page.close();
  });

  it('says clearly when the signaling server cannot be reached or goes away, and comes back with it', async () => {
    const resumeSecret = 'a resume secret for the demo test, 32+ bytes';
    const own = await createSignalingServer({ port: 0, host: '127.0.0.1', resumeSecret });
    let again: Awaited<ReturnType<typeof createSignalingServer>> | undefined;
    let demo: DemoPage | undefined;
    try {
      const page = await browser.newPage();
      await page.goto(`${own.url}/?room=r&name=solo`);
      demo = await DemoPage.join(browser, own.url, 'lonely', 'alice');
      await own.close();
      await demo.page.getByRole('status').filter({ hasText: 'Signaling: disconnected' }).waitFor();
      await demo.page.getByRole('alert').filter({ hasText: 'Lost the signaling server' }).waitFor();

      await page.getByRole('button', { name: 'Join' }).click();
      await page.getByRole('alert').filter({ hasText: 'Could not join: Cannot reach the signaling server' }).waitFor();
      await page.close();

      // The server comes back (same port, same resume secret): the page reconnects by itself.
      again = await createSignalingServer({ port: own.port, host: '127.0.0.1', resumeSecret });
      await demo.page.getByRole('status').filter({ hasText: 'Signaling: connected' }).waitFor({ timeout: 20_000 });
      await demo.page.getByText('Back on the signaling server.').waitFor();
    } finally {
      // The page goes before the server: a server closing under an open page makes Chromium log the socket's
      // last writes ("WebSocket is already in CLOSING or CLOSED state"), and after this test that would be
      // counted against the next one's teardown.
      await demo?.close();
      await own.close();
      await again?.close();
    }
    browser.problems.splice(0); // the failed websocket is logged by Chromium as a console error
  });

  it('after a server restart without a resume secret, clicking a participant who re-joined under a new id makes them the recipient', async () => {
    const own = await createSignalingServer({ port: 0, host: '127.0.0.1' });
    let again: SignalingServer | undefined;
    const joined: DemoPage[] = [];
    try {
      const alice = await DemoPage.join(browser, own.url, 'renamed', 'alice');
      joined.push(alice);
      const bob = await DemoPage.join(browser, own.url, 'renamed', 'bob');
      joined.push(bob);
      await alice.waitForOthers(['bob']);
      const bobButton = alice.page.getByRole('button', { name: /^bob\b/ });
      const row = alice.people.locator('li', { has: bobButton });
      // On their data channel, which outlives the server.
      await row.locator('.channel[data-state="direct"]').waitFor({ timeout: 20_000 });
      const before = await row.getAttribute('data-participant-id');
      await own.close();
      again = await createSignalingServer({ port: own.port, host: '127.0.0.1' });
      // Both re-join under new ids; alice's row for bob follows his.
      await alice.people
        .locator(`li:not([data-participant-id="${before}"])`, { has: bobButton })
        .waitFor({ timeout: 20_000 });
      await alice.person('bob').click();
      expect(await alice.page.getByRole('combobox', { name: 'To' }).inputValue()).to.not.equal('');
      const secret = await alice.say('still just for bob');
      expect(await alice.deliveryOf(secret)).to.deep.equal({ state: 'delivered', text: '✓ Delivered to bob' });
    } finally {
      for (const p of joined) await p.close();
      await own.close();
      await again?.close();
    }
    browser.problems.splice(0); // the lost websocket is logged by Chromium as a console error
  });

  it('the log keeps received files up to its byte cap: past it the oldest are released, their entries say so', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${server.url}/`);
      // The page's own log, in the page, with a cap of 3,000 bytes instead of 512 MiB: five files of 1,000.
      const kept = await page.evaluate(async () => {
        const url = '/messages.js'; // a URL of the page's origin, not a module of this test
        const { MessageLog } = (await import(url)) as {
          MessageLog: new (
            list: HTMLOListElement,
            o: { maxReceivedBytes: number },
          ) => {
            incoming(m: object): void;
            receivedBytes: number;
          };
        };
        const list = document.createElement('ol');
        document.body.append(list);
        const log = new MessageLog(list, { maxReceivedBytes: 3000 });
        for (let i = 0; i < 5; i++)
          log.incoming({
            from: { id: 'p', name: 'peer' },
            type: 'file',
            message: { name: `f${i}.bin`, mime: 'application/octet-stream' },
            attachment: new Uint8Array(1000),
          });
        const cards = Array.from(list.querySelectorAll('.file'));
        return {
          links: cards.map((c) => c.querySelector('a')?.textContent ?? c.querySelector('.released')?.textContent),
          bytes: log.receivedBytes,
        };
      });
      expect(kept.bytes).to.equal(3000);
      expect(kept.links).to.deep.equal([
        'Released to save memory (newer files came)',
        'Released to save memory (newer files came)',
        'Download f2.bin',
        'Download f3.bin',
        'Download f4.bin',
      ]);
    } finally {
      await page.close();
    }
  });

  it('a screenshot of the demo with three participants is saved to test-artifacts/', async () => {
    const [ada, grace, linus] = await meet(['Ada Lovelace', 'Grace Hopper', 'Linus']);
    await grace!.page.getByRole('combobox', { name: 'My status' }).selectOption('busy');
    await ada!.say('Morning! The design review starts in five minutes.');
    await grace!.say('On my way, bringing the sketches.');
    await linus!.person('Ada Lovelace').click();
    await linus!.say('Can you share the whiteboard from yesterday?');
    const png = await renderPng(browser, 'whiteboard.png');
    await ada!.received('Linus', 'Can you share the whiteboard from yesterday?').waitFor();
    await ada!.person('Linus').click();
    const sent = await ada!.sendFile({ name: 'whiteboard.png', mimeType: 'image/png', buffer: png }, 'Here it is');
    await ada!.deliveryOf(sent);
    await grace!.selectRecipient(null);
    await grace!.sendFile({
      name: 'agenda.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from(bytes(48 * 1024, 5)),
    });
    await linus!.received('Grace Hopper', 'agenda.pdf').getByRole('link').waitFor();
    await linus!
      .received('Ada Lovelace', 'whiteboard.png')
      .getByRole('img')
      .evaluate((img: HTMLImageElement) => img.decode());
    await linus!.page.getByRole('textbox', { name: 'Message' }).fill('Thanks!');

    mkdirSync(ARTIFACTS, { recursive: true });
    const path = `${ARTIFACTS}demo-three-participants.png`;
    await linus!.page.setViewportSize({ width: 1280, height: 960 });
    await linus!.page.screenshot({ path });
    expect(await linus!.others()).to.have.members(['Ada Lovelace', 'Grace Hopper']);
  });
});

/** A 320×200 PNG picture with `label` on it, rendered by Chromium itself. */
async function renderPng(browser: Chromium, label: string): Promise<Buffer> {
  const page = await browser.newPage();
  try {
    await page.setViewportSize({ width: 320, height: 200 });
    await page.setContent(`<body style="margin:0"><div style="width:320px;height:200px;display:grid;place-items:center;
      background:linear-gradient(135deg,#4f46e5,#06b6d4 60%,#a7f3d0);font:700 30px system-ui;color:#fff">${label}</div></body>`);
    return await page.screenshot({ type: 'png' });
  } finally {
    await page.close();
  }
}
