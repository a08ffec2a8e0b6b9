/** Mocha hooks for browser suites (apart from browser.ts, which the bench uses without mocha). */
import { expect } from 'chai';
import { Chromium } from './browser.js';
import type { Harness } from './harness.js';

/**
 * The hooks of a suite whose pages talk to Node participants in one Chromium: launched before the suite
 * (`use` receives it); after each test its page closes, everything the harness started stops, and the
 * page must have reported no error; closed after the suite.
 */
export function chromiumSuite(
  h: Harness,
  use: (browser: Chromium) => void,
  currentPage: () => { close(): Promise<unknown> } | undefined,
): void {
  let browser: Chromium | undefined;
  before(async () => {
    browser = await Chromium.launch();
    use(browser);
  });
  afterEach(async () => {
    await currentPage()
      ?.close()
      .catch(() => {});
    await h.close();
    expect(browser?.problems.splice(0), 'errors the page reported').to.deep.equal([]);
  });
  after(async () => {
    await browser?.close();
  });
}
