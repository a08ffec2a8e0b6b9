import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CDPSession, Page } from 'playwright-core';
import { Chromium } from '../../test/support/browser.js';
import type { PageAgent } from '../participant/page-main.js';
import type { OpName, Ops, Usage } from '../protocol.js';
import type { ParticipantHandle, ParticipantRuntime } from './ParticipantRuntime.js';

/** How long a page may take to close before it is closed by force. */
const STOP_GRACE_MS = 5_000;
/** How long a new page may take to load its participant script. */
const LOAD_TIMEOUT_MS = 30_000;

/** Options of {@link ChromiumRuntime}. */
export interface ChromiumRuntimeOptions {
  /** The page every participant loads (the bench signaling server's `/`, serving bench/runtime/page-bundle.ts's output). */
  pageUrl: string;
  /**
   * Write a CPU profile (.cpuprofile, the format of `node --cpu-prof`) of every page's main thread here.
   * @default undefined (no profiling)
   */
  profileDir?: string | undefined;
}

function fileName(name: string): string {
  return name.replace(/[^\w.-]+/g, '_');
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  // playwright prefixes "page.evaluate: " and appends the page's stack; the first line says what failed.
  return (text.split('\n')[0] ?? text).replace(/^page\.evaluate: (Error: )?/, '');
}

class PageParticipant implements ParticipantHandle {
  #closed: string | undefined;
  readonly #onClosed: Array<(reason: string) => void> = [];

  constructor(
    readonly name: string,
    private readonly page: Page,
    private readonly cdp: CDPSession,
    private readonly profileDir: string | undefined,
  ) {
    const end = (reason: string): void => {
      if (this.#closed !== undefined) return;
      this.#closed = reason;
      for (const f of this.#onClosed.splice(0)) f(reason);
    };
    page.once('crash', () => end(`${name}: the page crashed`));
    page.once('close', () => end(`${name}: the page closed`));
  }

  call<K extends OpName>(op: K, args: Ops[K][0], timeoutMs: number): Promise<Ops[K][1]> {
    if (this.#closed !== undefined) return Promise.reject(new Error(this.#closed));
    const work = op === 'usage' ? (this.#usage() as Promise<Ops[K][1]>) : this.#evaluate(op, args);
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onClosed: ((reason: string) => void) | undefined;
    const failed = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.name}: ${op} did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      onClosed = (reason) => reject(new Error(reason));
      this.#onClosed.push(onClosed);
    });
    return Promise.race([work, failed]).finally(() => {
      clearTimeout(timer);
      const i = this.#onClosed.indexOf(onClosed!);
      if (i >= 0) this.#onClosed.splice(i, 1);
    });
  }

  async #evaluate<K extends OpName>(op: K, args: Ops[K][0]): Promise<Ops[K][1]> {
    try {
      // Runs in the page: the participant script set this global (bench/participant/page-main.ts).
      return await this.page.evaluate<Ops[K][1], readonly [K, Ops[K][0]]>(
        ([o, a]) => (globalThis as unknown as { roommeshBench: PageAgent }).roommeshBench.handle(o, a),
        [op, args] as const,
      );
    } catch (err) {
      throw new Error(`${this.name}: ${firstLine(err)}`);
    }
  }

  /** Main-thread task time and JS heap, from Chromium's own counters (a page cannot read its process's). */
  async #usage(): Promise<Usage> {
    const { metrics } = await this.cdp.send('Performance.getMetrics');
    const value = (name: string): number => metrics.find((m) => m.name === name)?.value ?? Number.NaN;
    const packetsDiscardedOnSend = await this.page.evaluate(() =>
      (globalThis as unknown as { roommeshBench: PageAgent }).roommeshBench.packetsDiscardedOnSend(),
    );
    return { cpuMs: value('TaskDuration') * 1000, jsHeapBytes: value('JSHeapUsedSize'), packetsDiscardedOnSend };
  }

  async stop(): Promise<void> {
    if (this.#closed !== undefined) return;
    await this.call('close', {}, STOP_GRACE_MS).catch(() => {});
    if (this.profileDir !== undefined) {
      try {
        const { profile } = await this.cdp.send('Profiler.stop');
        writeFileSync(join(this.profileDir, `${fileName(this.name)}.cpuprofile`), JSON.stringify(profile));
      } catch (err) {
        process.stderr.write(`[${this.name}] no profile: ${firstLine(err)}\n`);
      }
    }
    await this.page.close().catch(() => {});
  }
}

/**
 * Runs each participant as a page of one headless Chromium (Debian's, with a fresh profile and the
 * flags of test/support/browser.ts), driven through playwright-core the way NodeProcessRuntime drives a
 * child process: each operation is a `page.evaluate` of the page's `roommeshBench.handle`. The browser
 * starts with the first page and ends with {@link stopAll}.
 */
export class ChromiumRuntime implements ParticipantRuntime {
  readonly #options: ChromiumRuntimeOptions;
  readonly #live = new Set<PageParticipant>();
  #browser: Promise<Chromium> | undefined;

  constructor(options: ChromiumRuntimeOptions) {
    this.#options = options;
  }

  async start(name: string): Promise<ParticipantHandle> {
    this.#browser ??= Chromium.launch();
    const browser = await this.#browser;
    const page = await browser.context.newPage();
    try {
      // What a Node participant would write to stderr.
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') process.stderr.write(`[${name}] ${m.text()}\n`);
      });
      page.on('pageerror', (err) => process.stderr.write(`[${name}] uncaught: ${err.message}\n`));
      await page.goto(this.#options.pageUrl, { timeout: LOAD_TIMEOUT_MS });
      await page.waitForFunction(() => 'roommeshBench' in globalThis, undefined, { timeout: LOAD_TIMEOUT_MS });
      // After the navigation, which may move the page to another renderer process.
      const cdp = await browser.context.newCDPSession(page);
      await cdp.send('Performance.enable');
      if (this.#options.profileDir !== undefined) {
        await cdp.send('Profiler.enable');
        await cdp.send('Profiler.start');
      }
      const participant = new PageParticipant(name, page, cdp, this.#options.profileDir);
      this.#live.add(participant);
      page.once('close', () => this.#live.delete(participant));
      return participant;
    } catch (err) {
      await page.close().catch(() => {});
      throw new Error(`${name}: the page did not load: ${firstLine(err)}`);
    }
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.#live].map((p) => p.stop()));
    const browser = this.#browser;
    this.#browser = undefined;
    if (browser !== undefined) await (await browser.catch(() => undefined))?.close();
  }
}
