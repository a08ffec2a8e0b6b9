/**
 * The package as a front-end developer meets it: `npm pack`, unpacked into a small app's node_modules,
 * built with Vite (its JS API, no Vite config at all), loaded in Chromium, talking to a Node participant.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import { Chromium } from '../support/browser.js';
import { ROOT } from '../support/pack.js';
import { builtJs, expectAppTypechecks, packedAppSuite } from '../support/packed-app.js';
import { Harness, bytes, eventually, nextEvent } from '../support/harness.js';

const FIXTURE = join(ROOT, 'test/fixtures/vite-app');
/** The ping's attachment. */
const ATTACHMENT_BYTES = 64 * 1024;

describe('a Vite app built from the packed package', function () {
  this.timeout(120_000);
  const h = new Harness();
  const built = packedAppSuite(FIXTURE);
  let browser: Chromium | undefined;

  after(async () => {
    await browser?.close();
    await h.close();
  });

  it('the tarball holds the browser bundle, the Node entry, types, the server and the demo, and no tests', () => {
    const files = built().packed.files.map((f) => f.path);
    for (const f of [
      'package.json',
      'README.md',
      'dist/browser/roommesh.js',
      'dist/lib/index.js',
      'dist/lib/index.d.ts',
      'dist/lib/node.js',
      'dist/signaling/server.js',
      'dist/signaling/cli.js',
      'demo/index.html',
      'demo/app.js',
    ]) {
      expect(files, f).to.include(f);
    }
    expect(
      files.filter((f) => f.startsWith('dist/test/') || f.startsWith('test/') || f.startsWith('scripts/')),
    ).to.deep.equal([]);
  });

  it('an app type-checks against the packed declarations alone (strict, bundler resolution, DOM types)', () => {
    expectAppTypechecks(built().appDir);
  });

  it('Vite builds it with no configuration and no warning, and the app holds no Node-only code', () => {
    expect(built().viteWarnings, 'Vite warnings').to.deep.equal([]);
    const js = builtJs(built().appDir);
    expect(js).to.include('roommesh'); // the library is in there…
    for (const nodeOnly of ['node-datachannel', 'node:', 'socket.io/lib', '__vite-browser-external'])
      expect(js, nodeOnly).to.not.include(nodeOnly);
  });

  it('the built app in Chromium exchanges messages and attachments with a Node participant', async () => {
    const server = await h.server({ staticDir: join(built().appDir, 'dist') });
    const agent = await h.join(server, 'vite', 'agent');
    await agent.messaging.enable();

    browser = await Chromium.launch();
    const page = await browser.newPage();
    await page.goto(`${server.url}/?room=vite&name=app`);
    const log = page.getByRole('list', { name: 'Log' });
    await log.getByText('ready', { exact: true }).waitFor({ timeout: 20_000 });
    // Errors keep their class and name through the app's minifying build.
    await log.getByText('error MessagingError ParticipantNotFound true', { exact: true }).waitFor();

    await eventually(
      () => agent.messaging.getParticipantByName('app') !== undefined,
      10_000,
      'the app present at the agent',
    );
    const app = agent.messaging.getParticipantByName('app')!;
    const attachment = bytes(ATTACHMENT_BYTES, 21);
    const pong = nextEvent(agent.messaging, 'message', 20_000, (m) => m.type === 'pong');
    await agent.messaging.sendMessage({ to: app, type: 'ping', message: { n: 1 }, attachment });
    const [reply] = await pong;
    expect(reply.message).to.deep.equal({ n: 1 });
    expect(Buffer.from(reply.attachment!).equals(Buffer.from(attachment))).to.equal(true);
    await log.getByText(`message agent ping {"n":1} ${ATTACHMENT_BYTES}`, { exact: true }).waitFor();
    await log.getByText('pong delivered', { exact: true }).waitFor();
    expect(browser.problems).to.deep.equal([]);
  });
});
