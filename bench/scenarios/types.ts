import type { BenchOptions, ScenarioId } from '../options.js';
import type { BaselineRole, HostId, ServerUrls, TransportId } from '../protocol.js';
import type { ParticipantRuntime } from '../runtime/ParticipantRuntime.js';

/**
 * A goal the README states, for roommesh as shipped unless `transports` names others: its value against a
 * baseline's on the same host measured in the same round (`vs` and `ratio`), or the value itself (`below`
 * or `atLeast`, in the metric's unit), optionally for one case only (e.g. `N=10`).
 */
export type Goal = (
  | {
      /** The baseline. */
      vs: BaselineRole;
      /** The ratio roommesh / baseline must be at least this (higher is better) or at most this (lower is better). */
      ratio: number;
    }
  | {
      /** The median must be under this (lower is better) or at least this (higher is better). */
      value: number;
    }
) & {
  /** The one case it applies to; every case when absent. */
  caseId?: string;
  /** The transports held to it; absent: those whose TRANSPORT_INFO says `goals`. */
  transports?: readonly TransportId[];
};

/** One number a scenario reports. */
export interface MetricSpec {
  id: string;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
  /** Goals for roommesh as shipped: on node-datachannel in Node, and in Chromium pages. */
  goals: Goal[];
  /** The transports that report it (e.g. only those whose data goes through the server); all when absent. */
  transports?: readonly TransportId[];
}

/** What one measurement gave: its metrics, or why the transport cannot do it. */
export type Outcome = { metrics: Record<string, number>; detail?: Record<string, number> } | { unsupported: string };

/** One measurement of one transport in one round, as stored in the JSON results. */
export interface Measurement {
  scenario: ScenarioId;
  /** Which case of the scenario, e.g. `N=10` for mesh formation; '' when it has one. */
  caseId: string;
  transport: TransportId;
  round: number;
  metrics?: Record<string, number>;
  /** Extra numbers that are not compared (e.g. p90, CPU time). */
  detail?: Record<string, number>;
  unsupported?: string;
  error?: string;
  /** The machine's 1-minute load average when the measurement started: a sign of noise from other work. */
  loadAvg1: number;
  /** Wall time of the whole measurement, setup included. */
  wallMs: number;
}

/** What every scenario gets to run with. */
export interface ScenarioContext {
  /** Where participants of each host start. */
  runtime(host: HostId): ParticipantRuntime;
  readonly urls: ServerUrls;
  readonly options: BenchOptions;
  /** A room name not used before in this run. */
  nextRoom(): string;
  /** The bench servers' process, as the signaling server's `/metrics` tells it now (both servers share it). */
  serverSample(): Promise<ServerSample>;
}

/** What the servers' process has done so far. */
export interface ServerSample {
  /** CPU time, user + system (`process_cpu_seconds_total`). */
  cpuMs: number;
  /** Resident memory now (`process_resident_memory_bytes`). */
  rssBytes: number;
  /** Bytes the signaling server relayed (`roommesh_relayed_bytes_total`). */
  relayedBytes: number;
  /** Frames (relay events) the signaling server relayed (`roommesh_relayed_frames_total`). */
  relayedFrames: number;
  /** Events the signaling server refused with `TooManyRequests` (`roommesh_rejections_total`). */
  tooManyRequests: number;
}

/** A scenario's description, for the table, the JSON and the README. */
export interface ScenarioSpec {
  id: ScenarioId;
  title: string;
  /** What is measured and how, in one sentence, given the options. */
  describe(options: BenchOptions): string;
  metrics: MetricSpec[];
  /** Transports it applies to. */
  transports: readonly TransportId[];
}
