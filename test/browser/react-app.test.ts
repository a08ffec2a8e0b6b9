/**
 * roommesh/react as a React developer meets it: `npm pack`, unpacked into a small app's node_modules beside
 * React, built with Vite in development mode (so <StrictMode> mounts every effect twice), loaded in Chromium
 * and talking to Node participants. The server's own log says how often the page joined.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import type { Logger } from '../../lib/node.js';
import type { SignalingServer } from '../../signaling/server.js';
import { Chromium } from '../support/browser.js';
import { ROOT } from '../support/pack.js';
import { builtJs, expectAppTypechecks, packedAppSuite } from '../support/packed-app.js';
import { Harness, eventually } from '../support/harness.js';

const FIXTURE = join(ROOT, 'test/fixtures/react-app');
/** What the app needs beside roommesh, linked from this package's own node_modules (its devDependencies). */
const LINKED = ['react', 'react-dom', 'scheduler', '@types/react', '@types/react-dom', 'csstype'];

/** A server logger that keeps what the server logs, to count joins and socket connections. */
function recordingLogger(): { logger: Logger; lines: Array<{ msg: string; obj: Record<string, unknown> }> } {
  const lines: Array<{ msg: string; obj: Record<string, unknown> }> = [];
  const keep = (obj: object, msg?: string): void => void lines.push({ msg: msg ?? '', obj: obj as never });
  return { logger: { debug: keep, info: keep, warn: keep, error: keep }, lines };
}

describe('a React app on roommesh/react, built with Vite from the packed package', function () {
  this.timeout(120_000);
  const h = new Harness();
  // Development mode: React's development build, the one where StrictMode double-mounts effects.
  const built = packedAppSuite(FIXTURE, {
    link: LINKED,
    vite: {
      mode: 'development',
      define: { 'process.env.NODE_ENV': JSON.stringify('development') },
      build: { minify: false },
    },
  });
  let browser: Chromium | undefined;

  after(async () => {
    await browser?.close();
    await h.close();
  });

  it('the tarball holds roommesh/react, and an app type-checks against the packed declarations', () => {
    const files = built().packed.files.map((f) => f.path);
    for (const f of ['dist/bindings/react/index.js', 'dist/bindings/react/index.d.ts']) expect(files, f).to.include(f);
    const pkg = JSON.parse(readFileSync(join(built().appDir, 'node_modules/roommesh/package.json'), 'utf8'));
    expect(pkg.peerDependenciesMeta?.react?.optional).to.equal(true);
    expectAppTypechecks(built().appDir);
  });

  it('Vite builds it with no warning, with one copy of the library and no Node-only code', () => {
    expect(built().viteWarnings, 'Vite warnings').to.deep.equal([]);
    const js = builtJs(built().appDir);
    // A string of lib/Room.ts, once: roommesh/react imported 'roommesh', the same module the app did.
    const marker = 'the signaling server will not take this participant back';
    const bundle = readFileSync(join(ROOT, 'dist/browser/roommesh.js'), 'utf8');
    expect(bundle).to.include(marker);
    expect(js.split(marker).length, 'copies of the library').to.equal(bundle.split(marker).length);
    expect(js).to.not.include('dist/lib/Room.js');
    // As module names (a development build keeps the library's comments, which mention node-datachannel).
    for (const nodeOnly of ['"node-datachannel', '"node:', 'socket.io/lib', '__vite-browser-external'])
      expect(js, nodeOnly).to.not.include(nodeOnly);
  });

  describe('in Chromium, under StrictMode', () => {
    let server: SignalingServer;
    let page: Page;
    const serverLog = recordingLogger();
    /** The server's 'joined' lines for the page's room, by participant id. */
    const joinsOf = (room: string): unknown[] =>
      serverLog.lines.filter((l) => l.msg === 'joined' && l.obj.room === room).map((l) => l.obj.participant);
    const text = (label: string): Promise<string> => page.getByLabel(label, { exact: true }).innerText();
    const listed = (label: string): Promise<string[]> =>
      page.getByRole('list', { name: label }).getByRole('listitem').allInnerTexts();

    before(async () => {
      server = await h.server({ staticDir: join(built().appDir, 'dist'), logger: serverLog.logger });
      browser = await Chromium.launch();
      page = await browser.newPage();
    });

    it('joins once despite the double mount, shows the status and the one Room class', async () => {
      const agent = await h.join(server, 'react', 'agent');
      await agent.messaging.enable();
      const agentJoin = joinsOf('react');
      await page.goto(`${server.url}/?room=react&name=app`);
      await page.getByLabel('Status', { exact: true }).getByText('connected', { exact: true }).waitFor();
      // StrictMode really double-mounted here (else this test proves nothing about it).
      expect(await text('Effect runs')).to.equal('2');
      expect(await text('Room class')).to.equal('true');
      // Messaging enabled once by the provider: the agent sees the page.
      await eventually(() => agent.messaging.getParticipantByName('app') !== undefined, 20_000, 'the page present');
      // Give a second join, if any, time to reach the server before counting.
      await new Promise((r) => setTimeout(r, 500));
      expect(joinsOf('react').length - agentJoin.length, 'joins from the page').to.equal(1);
      expect(server.stats().participants).to.equal(2);
      expect(agent.messaging.remoteParticipants.filter((p) => p.name === 'app')).to.have.length(1);
      expect(await text('Error')).to.equal('');
    });

    it('lists participants as they arrive, change their attributes and leave', async () => {
      await page.getByRole('list', { name: 'Participants' }).getByText('agent {}', { exact: true }).waitFor();
      const bob = await h.join(server, 'react', 'bob', { attributes: { color: 'red' } });
      await bob.messaging.enable();
      const list = page.getByRole('list', { name: 'Participants' });
      await list.getByText('bob {"color":"red"}', { exact: true }).waitFor({ timeout: 20_000 });
      bob.localParticipant.setAttributes({ color: 'blue' });
      await list.getByText('bob {"color":"blue"}', { exact: true }).waitFor();
      await bob.disconnect();
      await list.getByText('bob', { exact: false }).waitFor({ state: 'detached' });
      expect(await listed('Participants')).to.deep.equal(['agent {}']);
    });

    it('shows the latest messages of its type only, and answers pings through useMessaging', async () => {
      const agent = h.rooms.find((r) => r.localParticipant.name === 'agent')!;
      const app = agent.messaging.getParticipantByName('app')!;
      for (const text of ['one', 'two', 'three', 'four'])
        await agent.messaging.sendMessage({ to: app, type: 'chat', message: { text } });
      await agent.messaging.sendMessage({ to: app, type: 'other', message: { text: 'not chat' } });
      await page.getByRole('list', { name: 'Chat' }).getByText('agent: four', { exact: true }).waitFor();
      expect(await listed('Chat')).to.deep.equal(['agent: two', 'agent: three', 'agent: four']); // limit 3
      const pong = new Promise<unknown>((resolve) =>
        agent.messaging.on('message', (m) => m.type === 'pong' && resolve(m.message)),
      );
      await agent.messaging.sendMessage({ to: app, type: 'ping', message: { n: 7 } });
      expect(await pong).to.deep.equal({ n: 7 });
    });

    it('unmounting the provider leaves the room and closes the connection; mounting again joins once more', async () => {
      const agent = h.rooms.find((r) => r.localParticipant.name === 'agent')!;
      const before = joinsOf('react').length;
      await page.getByRole('button', { name: 'Leave' }).click();
      await eventually(() => agent.messaging.getParticipantByName('app') === undefined, 10_000, 'the page gone');
      await eventually(() => server.stats().participants === 1, 10_000, 'only the agent left on the server');
      await eventually(() => server.stats().connections === 1, 10_000, "the page's socket closed");

      await page.getByRole('button', { name: 'Join' }).click();
      await page.getByLabel('Status', { exact: true }).getByText('connected', { exact: true }).waitFor();
      await eventually(() => agent.messaging.getParticipantByName('app') !== undefined, 20_000, 'the page back');
      await new Promise((r) => setTimeout(r, 500));
      expect(joinsOf('react').length - before, 'joins from the remount').to.equal(1);
      expect(server.stats().participants).to.equal(2);
    });

    it('useMessages hands a component only messages of the type it asks for now, while the type changes', async () => {
      const agent = h.rooms.find((r) => r.localParticipant.name === 'agent')!;
      const app = agent.messaging.getParticipantByName('app')!;
      await page.getByRole('button', { name: 'Flip types' }).click();
      // Pipelined, alternating types, while the page switches useMessages between them every 3 ms.
      const sends: Promise<void>[] = [];
      for (let i = 0; i < 3000; i++) {
        sends.push(agent.messaging.sendMessage({ to: app, type: i % 2 === 0 ? 'a' : 'b', message: { i } }));
        if (i % 100 === 99) await new Promise((r) => setTimeout(r, 5));
      }
      await Promise.all(sends);
      await page.getByRole('button', { name: 'Stop flipping' }).click();
      // It did see messages while flipping (else this test proves nothing), and none of the other type.
      expect(Number(await text('Flip seen'))).to.be.greaterThan(0);
      expect(await text('Wrong types')).to.equal('0');
      // The list is a dependency of the fixture's effect, which sets state: a new array at each render looped.
      expect(browser!.problems.filter((p) => p.includes('Maximum update depth'))).to.deep.equal([]);
    });

    it('enableMessaging false disables messaging (the others see the page leave), and true enables it again', async () => {
      const agent = h.rooms.find((r) => r.localParticipant.name === 'agent')!;
      await page.getByRole('button', { name: 'Messaging off' }).click();
      await eventually(() => agent.messaging.getParticipantByName('app') === undefined, 10_000, 'the page removed');
      await page.getByRole('list', { name: 'Participants' }).getByText('agent', { exact: false }).waitFor({
        state: 'detached',
      });
      expect(server.stats().participants, 'still joined').to.equal(2);
      await page.getByRole('button', { name: 'Messaging on' }).click();
      await eventually(() => agent.messaging.getParticipantByName('app') !== undefined, 20_000, 'the page back');
      await page.getByRole('list', { name: 'Participants' }).getByText('agent {}', { exact: true }).waitFor();
    });

    it('shows reconnecting when the signaling server goes away', async () => {
      await server.close();
      await page.getByLabel('Status', { exact: true }).getByText('reconnecting', { exact: true }).waitFor();
      // Signaling down, channels up: the agent is still listed.
      expect(await listed('Participants')).to.deep.equal(['agent {}']);
      expect(
        browser!.problems.filter((p) => !p.includes('socket.io') && !p.includes('ERR_CONNECTION_REFUSED')),
      ).to.deep.equal([]);
    });

    it('shows connected again, under its new id, once a server that forgot it (no resume secret) is back', async () => {
      const before = await text('Self');
      expect(before).to.not.equal('');
      server = await h.server({
        port: Number(new URL(server.url).port),
        staticDir: join(built().appDir, 'dist'),
        logger: serverLog.logger,
      });
      await page.getByLabel('Status', { exact: true }).getByText('connected', { exact: true }).waitFor({
        timeout: 30_000,
      });
      const after = await text('Self');
      expect(after, 'the new id shown').to.not.equal(before);
      expect(after).to.not.equal('');
    });
  });
});
