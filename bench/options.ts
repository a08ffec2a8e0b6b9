import { parseArgs } from 'node:util';
import type { RoomTimeouts } from '../lib/node.js';
import { HOSTS, TRANSPORTS, TRANSPORT_INFO, type LatencyShape, type TransportId } from './protocol.js';

/** The scenarios, in the order they run. */
export const SCENARIOS = ['small', 'attachment', 'latency', 'broadcast', 'mesh'] as const;

/** Every request/reply shape of the latency scenario: both send calls, both places to reply from, both sizes. */
export const LATENCY_SHAPES: readonly LatencyShape[] = (['ack', 'nowait'] as const).flatMap((send) =>
  (['listener', 'later'] as const).flatMap((reply) => [100, 10 * 1024].map((bytes) => ({ send, reply, bytes }))),
);

/** The case id of a latency shape, as tables and `--latency-shapes` spell it: `ack/listener/100`. */
export function latencyCaseId(s: LatencyShape): string {
  return `${s.send}/${s.reply}/${s.bytes}`;
}

/** One of {@link SCENARIOS}. */
export type ScenarioId = (typeof SCENARIOS)[number];

/** Options of a bench run. Sizes are the unless said otherwise. */
export interface BenchOptions {
  /**
   * Scenarios to run.
   * @default every one of SCENARIOS
   */
  scenarios: ScenarioId[];
  /**
   * Transports to measure (a scenario skips those it does not apply to).
   * @default every one of TRANSPORTS
   */
  transports: TransportId[];
  /**
   * Measured repetitions of every case; each uses fresh participant processes, and the transports take
   * turns within a repetition so that a slow spell of the machine hits them all.
   * @default 5
   */
  rounds: number;
  /**
   * Before each measurement, the same participants first run this fraction of its size, unmeasured.
   * @default 0.1
   */
  warmupFraction: number;
  /** @default 100000 */
  smallMessages: number;
  /** @default 10000 */
  latencyRoundTrips: number;
  /**
   * The request/reply shapes the latency scenario measures, in this order.
   * @default LATENCY_SHAPES (all eight)
   */
  latencyShapes: LatencyShape[];
  /** @default 67108864 (64 MiB) */
  attachmentBytes: number;
  /** @default [2, 5, 10, 20] */
  meshSizes: number[];
  /** @default 9 */
  broadcastReceivers: number;
  /** @default 10000 */
  broadcastMessages: number;
  /**
   * roommesh's `timeouts` option for the roommesh participants; empty leaves the library's defaults.
   * @default {}
   */
  roommeshTimeouts: Partial<RoomTimeouts>;
  /**
   * Run every participant and the servers with `node --cpu-prof`, writing .cpuprofile files here.
   * @default undefined (no profiling)
   */
  profileDir: string | undefined;
  /**
   * Where the JSON results go; undefined writes none.
   * @default 'bench/results'
   */
  resultsDir: string | undefined;
  /**
   * Longest any one operation of a participant may take before the measurement counts as failed.
   * @default 300000
   */
  operationTimeoutMs: number;
}

/** The full run: the sizes, five rounds, Node processes and Chromium pages. */
export const DEFAULT_BENCH_OPTIONS: Readonly<BenchOptions> = Object.freeze({
  scenarios: [...SCENARIOS],
  transports: [...TRANSPORTS],
  rounds: 5,
  warmupFraction: 0.1,
  smallMessages: 100_000,
  latencyRoundTrips: 10_000,
  latencyShapes: [...LATENCY_SHAPES],
  attachmentBytes: 64 * 1024 * 1024,
  meshSizes: [2, 5, 10, 20],
  broadcastReceivers: 9,
  broadcastMessages: 10_000,
  roommeshTimeouts: {},
  profileDir: undefined,
  resultsDir: 'bench/results',
  operationTimeoutMs: 300_000,
});

/** `--quick`: smaller sizes and three rounds, for a first look. */
export const QUICK_BENCH_OPTIONS: Readonly<Partial<BenchOptions>> = Object.freeze({
  rounds: 3,
  smallMessages: 20_000,
  latencyRoundTrips: 500,
  attachmentBytes: 16 * 1024 * 1024,
  meshSizes: [2, 5, 10],
  broadcastMessages: 2_000,
});

export const USAGE = `npm run bench -- [options]

  --scenario LIST     ${SCENARIOS.join(',')} (default: all)
  --transport LIST    ${TRANSPORTS.join(',')} (default: all)
  --runtime LIST      ${HOSTS.join(',')}: only the transports of these hosts (default: all)
  --quick             smaller sizes (20,000 messages, 16 MiB, N up to 10), 3 rounds
  --rounds N          measured repetitions (default 5)
  --small N           small messages per measurement (default 100000)
  --latency N         round trips per measurement (default 10000, after as many to warm up)
  --latency-shapes LIST  send/reply/bytes of each latency case (default: all of
                      ${LATENCY_SHAPES.map(latencyCaseId).join(',')})
  --attachment-mib N  attachment size in MiB (default 64)
  --mesh LIST         mesh sizes (default 2,5,10,20)
  --broadcast N       broadcast messages per measurement (default 10000)
  --receivers N       broadcast receivers (default 9)
  --heartbeat-timeout-ms N  roommesh's heartbeatTimeoutMs (default: the library's, 5000)
  --profile DIR       run participants with node --cpu-prof, profiles in DIR
  --no-results        do not write bench/results/*.json
  --help
`;

function list<T extends string>(value: string, allowed: readonly T[], what: string): T[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item))
      throw new Error(`unknown ${what} '${item}'; choose from ${allowed.join(', ')}`);
  }
  if (items.length === 0) throw new Error(`--${what}: name at least one`);
  return items as T[];
}

function positiveInt(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${what} must be a positive integer, got '${value}'`);
  return n;
}

/** Reads command-line arguments into options; throws with a sentence for bad ones. Returns undefined for --help. */
export function parseBenchArgs(argv: string[]): BenchOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      scenario: { type: 'string' },
      transport: { type: 'string' },
      runtime: { type: 'string' },
      quick: { type: 'boolean' },
      rounds: { type: 'string' },
      small: { type: 'string' },
      latency: { type: 'string' },
      'latency-shapes': { type: 'string' },
      'attachment-mib': { type: 'string' },
      mesh: { type: 'string' },
      broadcast: { type: 'string' },
      receivers: { type: 'string' },
      profile: { type: 'string' },
      'heartbeat-timeout-ms': { type: 'string' },
      'no-results': { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) return undefined;
  const o: BenchOptions = { ...DEFAULT_BENCH_OPTIONS, ...(values.quick === true ? QUICK_BENCH_OPTIONS : {}) };
  if (values.scenario !== undefined) o.scenarios = list(values.scenario, SCENARIOS, 'scenario');
  if (values.transport !== undefined) o.transports = list(values.transport, TRANSPORTS, 'transport');
  if (values.runtime !== undefined) {
    const hosts = list(values.runtime, HOSTS, 'runtime');
    o.transports = o.transports.filter((t) => hosts.includes(TRANSPORT_INFO[t].host));
    if (o.transports.length === 0)
      throw new Error(`--runtime ${values.runtime}: none of the chosen transports runs there`);
  }
  if (values.rounds !== undefined) o.rounds = positiveInt(values.rounds, 'rounds');
  if (values.small !== undefined) o.smallMessages = positiveInt(values.small, 'small');
  if (values.latency !== undefined) o.latencyRoundTrips = positiveInt(values.latency, 'latency');
  if (values['latency-shapes'] !== undefined) {
    const ids = list(values['latency-shapes'], LATENCY_SHAPES.map(latencyCaseId), 'latency-shapes');
    o.latencyShapes = ids.map((id) => LATENCY_SHAPES.find((s) => latencyCaseId(s) === id) as LatencyShape);
  }
  if (values['attachment-mib'] !== undefined)
    o.attachmentBytes = positiveInt(values['attachment-mib'], 'attachment-mib') * 1024 * 1024;
  if (values.mesh !== undefined) {
    o.meshSizes = values.mesh.split(',').map((s) => positiveInt(s.trim(), 'mesh'));
    if (o.meshSizes.some((n) => n < 2)) throw new Error('--mesh sizes must be at least 2');
  }
  if (values.broadcast !== undefined) o.broadcastMessages = positiveInt(values.broadcast, 'broadcast');
  if (values.receivers !== undefined) o.broadcastReceivers = positiveInt(values.receivers, 'receivers');
  if (values.profile !== undefined) o.profileDir = values.profile;
  if (values['heartbeat-timeout-ms'] !== undefined)
    o.roommeshTimeouts = { heartbeatTimeoutMs: positiveInt(values['heartbeat-timeout-ms'], 'heartbeat-timeout-ms') };
  if (values['no-results'] === true) o.resultsDir = undefined;
  return o;
}
