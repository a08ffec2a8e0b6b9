/** Drives the demo page (demo/) in Chromium the way a person does: through its labels, buttons and keyboard. */
import type { Locator, Page } from 'playwright-core';
import type { Chromium } from './browser.js';

/** A file handed to the page's file picker. */
export interface PickedFile {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

/** What the page recorded of one progress bar: every value it showed, and its maximum. */
export interface ProgressTrace {
  values: number[];
  max: number;
}

/** One tab with the demo open and joined to a room. */
export class DemoPage {
  private constructor(
    readonly page: Page,
    readonly name: string,
    readonly room: string,
  ) {}

  /** Opens the demo with room and name prefilled from the URL, presses Join, and waits until messaging is on. */
  static async join(
    browser: Chromium,
    serverUrl: string,
    room: string,
    name: string,
    paths?: string,
  ): Promise<DemoPage> {
    const page = await browser.newPage();
    await page.goto(`${serverUrl}/?${new URLSearchParams({ room, name, ...(paths === undefined ? {} : { paths }) })}`);
    const demo = new DemoPage(page, name, room);
    await demo.watchProgressBars();
    await page.getByRole('button', { name: 'Join' }).click();
    await page.getByRole('status').filter({ hasText: 'Signaling: connected' }).waitFor();
    // The composer takes the focus once enable() has resolved.
    await page.getByRole('textbox', { name: 'Message' }).and(page.locator(':focus')).waitFor();
    return demo;
  }

  /** The presence list. */
  get people(): Locator {
    return this.page.getByRole('list', { name: 'Participants' });
  }

  /** The message log. */
  get log(): Locator {
    return this.page.getByRole('log', { name: 'Messages' });
  }

  /** Names in the presence list other than this page's own, in list order. */
  async others(): Promise<string[]> {
    return this.people.locator('li.person:not(.me) .person-name').allTextContents();
  }

  /** Waits until the presence list shows exactly `names` besides this page's own (any order). */
  async waitForOthers(names: string[], timeoutMs = 15_000): Promise<void> {
    const want = [...names].sort().join('|');
    const until = Date.now() + timeoutMs;
    let got = '';
    while (Date.now() < until) {
      got = (await this.others()).sort().join('|');
      if (got === want) return;
      await this.page.waitForTimeout(50);
    }
    throw new Error(`${this.name}: presence list shows [${got}], expected [${want}]`);
  }

  /** The presence entry of a participant (its button carries the accessible summary). */
  person(name: string): Locator {
    return this.people.getByRole('button', { name: new RegExp(`^${escapeRegExp(name)}\\b`) });
  }

  /** Picks the recipient: a participant's name from the list, or null for everyone. */
  async selectRecipient(name: string | null): Promise<void> {
    await this.page.getByRole('combobox', { name: 'To' }).selectOption({ label: name ?? 'Everyone' });
  }

  /** Types a message and sends it with Enter; resolves with the entry it added to the log. */
  async say(text: string): Promise<Locator> {
    const box = this.page.getByRole('textbox', { name: 'Message' });
    await box.fill(text);
    await box.press('Enter');
    return this.sent(text);
  }

  /** Attaches a file with the file picker and sends it (with an optional caption) using the Send button. */
  async sendFile(file: PickedFile, caption = ''): Promise<Locator> {
    await this.page.getByLabel('Attach file').setInputFiles(file);
    await this.page.getByRole('textbox', { name: 'Message' }).fill(caption);
    await this.page.getByRole('button', { name: 'Send', exact: true }).click();
    return this.log
      .locator('li.msg.mine')
      .filter({ has: this.page.getByText(file.name, { exact: true }) })
      .last();
  }

  /** The log entry of a message this page sent. */
  sent(text: string): Locator {
    return this.log
      .locator('li.msg.mine')
      .filter({ has: this.page.getByText(text, { exact: true }) })
      .last();
  }

  /** The log entry of a message received from `from` containing `text` (a message text or a file name). */
  received(from: string, text: string): Locator {
    return this.log
      .locator('li.msg:not(.mine)')
      .filter({ has: this.page.locator('.sender', { hasText: from }) })
      .filter({ has: this.page.getByText(text, { exact: true }) });
  }

  /** Waits until a sent entry is no longer "Sending…" and returns its delivery state and text. */
  async deliveryOf(entry: Locator, timeoutMs = 30_000): Promise<{ state: string; text: string }> {
    const delivery = entry.locator('.delivery');
    await delivery.and(this.page.locator(':not([data-state="sending"])')).waitFor({ timeout: timeoutMs });
    return { state: (await delivery.getAttribute('data-state')) ?? '', text: (await delivery.textContent()) ?? '' };
  }

  /** SHA-256 (hex), computed in the page, of the file a download link in `entry` hands out. */
  async sha256OfDownload(entry: Locator): Promise<string> {
    const href = await entry.getByRole('link', { name: /^Download / }).getAttribute('href');
    if (href === null) throw new Error('no download link');
    return this.page.evaluate(async (url) => {
      const bytes = await (await fetch(url)).arrayBuffer();
      const digest = await crypto.subtle.digest('SHA-256', bytes);
      return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
    }, href);
  }

  /** Every value the progress bar of `fileName` showed on this page, and its maximum. */
  async progressTrace(fileName: string): Promise<ProgressTrace | undefined> {
    return this.page.evaluate((name) => {
      const traces =
        (window as unknown as { __progress?: Record<string, { values: number[]; max: number }> }).__progress ?? {};
      return Object.entries(traces).find(([label]) => label.endsWith(` ${name}`))?.[1];
    }, fileName);
  }

  /** Closes the tab. */
  async close(): Promise<void> {
    await this.page.close();
  }

  /** Records every value each progress bar of the log takes, for {@link progressTrace}. */
  private async watchProgressBars(): Promise<void> {
    await this.page.evaluate(() => {
      const traces: Record<string, { values: number[]; max: number }> = {};
      (window as unknown as { __progress: typeof traces }).__progress = traces;
      const record = (bar: HTMLProgressElement): void => {
        const label = bar.getAttribute('aria-label') ?? '';
        const trace = (traces[label] ??= { values: [], max: 0 });
        trace.max = bar.max;
        if (trace.values.at(-1) !== bar.value) trace.values.push(bar.value);
      };
      new MutationObserver((mutations) => {
        for (const m of mutations) {
          if (m.target instanceof HTMLProgressElement) record(m.target);
          m.addedNodes.forEach((node) => {
            if (node instanceof Element) node.querySelectorAll('progress').forEach(record);
          });
        }
      }).observe(document.body, {
        subtree: true,
        childList: true,
        attributes: true,
        attributeFilter: ['value', 'max'],
      });
    });
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
