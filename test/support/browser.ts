/** Test helpers for real Chromium: Debian's /usr/bin/chromium driven by playwright-core, always closed again. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium; scripts/ensure-chromium.mjs installs it before `npm test` runs these tests. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * The flags of issue 4. The last two make Chromium gather loopback ICE candidates inside the
 * loopback-only network namespace the tests run in; without them no page ever connects.
 */
export const CHROMIUM_ARGS: readonly string[] = Object.freeze([
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
]);

/** One Chromium with a fresh profile; {@link close} ends the browser and deletes the profile. */
export class Chromium {
  /** Problems the pages reported (uncaught errors, console errors), for assertions and failure messages. */
  readonly problems: string[] = [];

  private constructor(
    readonly context: BrowserContext,
    private readonly profileDir: string,
  ) {}

  /** Launches Chromium with {@link CHROMIUM_ARGS} and a profile in a new temporary folder. */
  static async launch(): Promise<Chromium> {
    if (!existsSync(CHROMIUM_PATH))
      throw new Error(
        `Chromium is missing at ${CHROMIUM_PATH}: as root, apt-get update && apt-get install -y --no-install-recommends chromium`,
      );
    const profileDir = mkdtempSync(join(tmpdir(), 'roommesh-chromium-'));
    try {
      const context = await chromium.launchPersistentContext(profileDir, {
        executablePath: CHROMIUM_PATH,
        headless: true,
        args: [...CHROMIUM_ARGS],
        viewport: { width: 1280, height: 800 },
      });
      return new Chromium(context, profileDir);
    } catch (err) {
      rmSync(profileDir, { recursive: true, force: true });
      throw err;
    }
  }

  /** A new tab; its uncaught errors and console errors are collected in {@link problems}. */
  async newPage(): Promise<Page> {
    const page = await this.context.newPage();
    page.on('pageerror', (err) => this.problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') this.problems.push(`console: ${msg.text()}`);
    });
    return page;
  }

  /** Closes every page and the browser, and deletes the profile. Safe to call twice. */
  async close(): Promise<void> {
    await this.context.close().catch(() => {});
    rmSync(this.profileDir, { recursive: true, force: true });
  }
}
