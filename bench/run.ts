import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_PATH } from '../test/support/browser.js';
import type { BenchOptions, ScenarioId } from './options.js';
import { TRANSPORT_INFO, startsRelayed, type HostId, type TransportId } from './protocol.js';
import { summarise, type SummaryRow } from './report/summary.js';
import { formatTable } from './report/table.js';
import { ChromiumRuntime } from './runtime/ChromiumRuntime.js';
import { NodeProcessRuntime } from './runtime/NodeProcessRuntime.js';
import { PAGE_DIR, buildBenchPage } from './runtime/page-bundle.js';
import type { ParticipantRuntime } from './runtime/ParticipantRuntime.js';
import { serverSample, startServers } from './runtime/servers.js';
import { attachmentSpec, measureAttachment } from './scenarios/attachment.js';
import { broadcastSpec, measureBroadcast } from './scenarios/broadcast.js';
import { enableAll, startGroup, stopGroup, type Member } from './scenarios/group.js';
import { latencyJobs, latencySpec } from './scenarios/latency.js';
import { measureMesh, meshSpec } from './scenarios/mesh.js';
import { measureSmall, smallSpec } from './scenarios/small.js';
import type { Measurement, Outcome, ScenarioContext, ScenarioSpec } from './scenarios/types.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Every scenario's description, in run order. */
export const SCENARIO_SPECS: readonly ScenarioSpec[] = [
  smallSpec,
  attachmentSpec,
  latencySpec,
  broadcastSpec,
  meshSpec,
];

/** Everything a run produced; this is the JSON written to bench/results/. */
export interface BenchResult {
  startedAt: string;
  finishedAt: string;
  environment: Record<string, unknown>;
  options: BenchOptions;
  scenarios: Array<{ id: ScenarioId; title: string; description: string }>;
  measurements: Measurement[];
  summary: SummaryRow[];
  /** The printed table. */
  table: string;
  /** Where the JSON was written, when it was. */
  file?: string;
}

/** The order transports take in round `round`: rotated, so none is always first or last. */
function rotate<T>(items: readonly T[], round: number): T[] {
  const k = items.length === 0 ? 0 : round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
}

function chromiumVersion(): string {
  const r = spawnSync(CHROMIUM_PATH, ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

function environment(hosts: HostId[]): Record<string, unknown> {
  return {
    node: process.version,
    runtimes: hosts,
    ...(hosts.includes('chromium') ? { chromium: chromiumVersion() } : {}),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    packages: Object.fromEntries(
      [
        'simple-peer',
        'node-datachannel',
        '@roamhq/wrtc',
        'socket.io',
        'socket.io-client',
        'cbor-x',
        'playwright-core',
      ].map((n) => [n, packageVersion(n)]),
    ),
  };
}

/**
 * Runs the selected scenarios for every selected transport, with fresh participants (Node processes or
 * Chromium pages) per transport and round (the two-party scenarios run one after another on one pair),
 * and returns the measurements with their summary. `log` gets one line
 * per measurement.
 */
export async function runBench(options: BenchOptions, log: (line: string) => void = () => {}): Promise<BenchResult> {
  const startedAt = new Date();
  let profileArgs: string[] = [];
  if (options.profileDir !== undefined) {
    const dir = resolve(options.profileDir);
    mkdirSync(dir, { recursive: true });
    profileArgs = ['--cpu-prof', '--cpu-prof-dir', dir];
  }
  const hosts = [...new Set(options.transports.map((t) => TRANSPORT_INFO[t].host))];
  // The pages' script is bundled from this build's dist/ before the servers start serving it.
  if (hosts.includes('chromium')) await buildBenchPage();
  const servers = await startServers(
    profileArgs.length === 0 ? [] : [...profileArgs, '--cpu-prof-name', 'servers.cpuprofile'],
    hosts.includes('chromium') ? PAGE_DIR : undefined,
  );
  const runtimes: Record<HostId, ParticipantRuntime> = {
    node: new NodeProcessRuntime({ execArgv: profileArgs }),
    chromium: new ChromiumRuntime({
      pageUrl: `${servers.signalingUrl}/`,
      profileDir: options.profileDir === undefined ? undefined : resolve(options.profileDir),
    }),
  };
  let rooms = 0;
  // Only the URLs: they travel to the participants, over IPC or into a page.
  const urls = { signalingUrl: servers.signalingUrl, relayUrl: servers.relayUrl };
  const ctx: ScenarioContext = {
    runtime: (host) => runtimes[host],
    urls,
    options,
    nextRoom: () => `bench-${++rooms}`,
    serverSample: () => serverSample(urls.signalingUrl),
  };
  const measurements: Measurement[] = [];
  const selected = (spec: ScenarioSpec): TransportId[] =>
    options.scenarios.includes(spec.id) ? spec.transports.filter((t) => options.transports.includes(t)) : [];

  const record = async (
    spec: ScenarioSpec,
    caseId: string,
    transport: TransportId,
    round: number,
    run: () => Promise<Outcome>,
  ): Promise<void> => {
    const loadAvg1 = loadavg()[0] as number;
    const t0 = performance.now();
    const m: Measurement = { scenario: spec.id, caseId, transport, round, loadAvg1, wallMs: 0 };
    try {
      const outcome = await run();
      if ('unsupported' in outcome) m.unsupported = outcome.unsupported;
      else {
        m.metrics = outcome.metrics;
        if (outcome.detail !== undefined) m.detail = outcome.detail;
      }
    } catch (err) {
      m.error = err instanceof Error ? (err.message.split('\n')[0] ?? String(err)) : String(err);
    }
    m.wallMs = performance.now() - t0;
    measurements.push(m);
    const numbers = { ...m.metrics, ...m.detail };
    const shown = m.metrics
      ? Object.entries(numbers)
          .map(([k, v]) => `${k}=${v.toFixed(2)}`)
          .join(' ')
      : m.unsupported !== undefined
        ? 'unsupported'
        : `FAILED ${m.error}`;
    log(
      `${spec.id}${caseId === '' ? '' : ` ${caseId}`} round ${round} ${transport}: ${shown} (load ${loadAvg1.toFixed(2)})`,
    );
  };

  /**
   * Runs `jobs` one after another on a fresh group of participants, enabled (all seeing each other)
   * unless the job is to enable them. A job that fails may leave the group broken, so the next job
   * gets a new group; a group that cannot be set up fails the job it was for.
   */
  const withGroup = async (
    transport: TransportId,
    size: number,
    label: string,
    enable: boolean,
    jobs: Array<[ScenarioSpec, string, (g: Member[]) => Promise<Outcome>]>,
    round: number,
  ): Promise<void> => {
    let group: Member[] | undefined;
    const setUp = async (): Promise<Member[]> => {
      const g = await startGroup(ctx, transport, size, label);
      try {
        const timeoutMs = Math.min(options.operationTimeoutMs, 60_000);
        if (enable) await enableAll(g, timeoutMs);
        // A relay-first pair is measured on the path it ends on, the direct one.
        if (enable && startsRelayed(transport))
          await Promise.all(g.map((m) => m.handle.call('untilDirect', { timeoutMs }, timeoutMs + 5_000)));
      } catch (err) {
        await stopGroup(g);
        throw err;
      }
      return g;
    };
    try {
      for (const [spec, caseId, measure] of jobs) {
        await record(spec, caseId, transport, round, async () => {
          group ??= await setUp();
          try {
            return await measure(group);
          } catch (err) {
            const broken = group;
            group = undefined;
            await stopGroup(broken);
            throw err;
          }
        });
      }
    } finally {
      if (group !== undefined) await stopGroup(group);
    }
  };

  try {
    // Two participants that enable messaging together, then run every two-party scenario. Latency turns
    // the receiver into an echo, so it runs last.
    const pairSpecs: Array<
      [ScenarioSpec, (ctx: ScenarioContext, a: Member, b: Member, transport: TransportId) => Promise<Outcome>]
    > = [
      [smallSpec, measureSmall],
      [attachmentSpec, measureAttachment],
    ];
    const pairTransports = [...new Set([...pairSpecs.map(([spec]) => spec), latencySpec].flatMap((s) => selected(s)))];
    for (let round = 1; round <= options.rounds && pairTransports.length > 0; round++) {
      for (const transport of rotate(pairTransports, round)) {
        const jobs = pairSpecs
          .filter(([spec]) => selected(spec).includes(transport))
          .map(([spec, measure]): [ScenarioSpec, string, (g: Member[]) => Promise<Outcome>] => [
            spec,
            '',
            (g) => measure(ctx, g[0] as Member, g[1] as Member, transport),
          ]);
        if (selected(latencySpec).includes(transport)) {
          for (const [caseId, measure] of latencyJobs(ctx, transport))
            jobs.push([latencySpec, caseId, (g) => measure(g[0] as Member, g[1] as Member)]);
        }
        await withGroup(transport, 2, `pair-r${round}`, true, jobs, round);
      }
    }

    const broadcastTransports = selected(broadcastSpec);
    for (let round = 1; round <= options.rounds && broadcastTransports.length > 0; round++) {
      for (const transport of rotate(broadcastTransports, round)) {
        await withGroup(
          transport,
          options.broadcastReceivers + 1,
          `broadcast-r${round}`,
          true,
          [[broadcastSpec, '', (g) => measureBroadcast(ctx, g)]],
          round,
        );
      }
    }

    const meshTransports = selected(meshSpec);
    if (meshTransports.length > 0 && options.warmupFraction > 0) {
      // One unrecorded formation per transport first: the first processes of a kind start slower.
      for (const transport of meshTransports) {
        const g = await startGroup(ctx, transport, Math.min(5, Math.max(...options.meshSizes)), 'mesh-warmup').catch(
          () => undefined,
        );
        if (g !== undefined) {
          await measureMesh(ctx, g, transport).catch(() => undefined);
          await stopGroup(g);
        }
      }
    }
    for (const n of meshTransports.length > 0 ? options.meshSizes : []) {
      for (let round = 1; round <= options.rounds; round++) {
        for (const transport of rotate(meshTransports, round)) {
          await withGroup(
            transport,
            n,
            `mesh${n}-r${round}`,
            false,
            [[meshSpec, `N=${n}`, (g) => measureMesh(ctx, g, transport)]],
            round,
          );
        }
      }
    }
  } finally {
    await Promise.all(Object.values(runtimes).map((r) => r.stopAll()));
    await servers.stop();
  }

  const specs = SCENARIO_SPECS.filter((s) => options.scenarios.includes(s.id));
  const summary = summarise(specs, measurements);
  const result: BenchResult = {
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    environment: { ...environment(hosts), loadAvgAtEnd: loadavg() },
    options,
    scenarios: specs.map((s) => ({ id: s.id, title: s.title, description: s.describe(options) })),
    measurements,
    summary,
    table: formatTable(specs, summary, options),
  };
  if (options.resultsDir !== undefined) {
    const dir = resolve(ROOT, options.resultsDir);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    result.file = file;
  }
  return result;
}
