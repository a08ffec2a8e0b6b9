/**
 * Prometheus metrics of one server instance, with prom-client. Each server has its own Registry (never
 * the global one), so several servers in one process (tests) keep separate counts.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { SignalData, SignalingErrorReason } from '../lib/protocol/signaling.js';

/** Live values the gauges read when scraped. */
export interface MetricsSources {
  connections(): number;
  rooms(): number;
  participants(): number;
  ready(): boolean;
}

/** The metrics a server updates. */
export interface ServerMetrics {
  readonly registry: Registry;
  /** Joins by result: `ok` or the refusal reason. */
  readonly joins: Counter<'result'>;
  /** Signals relayed, by kind (offer, answer, candidate). */
  readonly signals: Counter<'kind'>;
  /** Refused events and connections, by reason. */
  readonly rejections: Counter<'reason'>;
  /** Size of every event received, in bytes. */
  readonly payloadBytes: Histogram;
  /** Relayed `data` bytes this process forwarded. */
  readonly relayedBytes: Counter;
  /** Relayed frames this process forwarded. */
  readonly relayedFrames: Counter;
  /** Relayed frames this process refused (and dropped), by reason. */
  readonly relayRefusals: Counter<'reason'>;
  /** Participants removed because the process holding them died (Redis fleet). */
  readonly membersSwept: Counter;
}

/** Creates the metrics of one server, in a fresh registry. */
export function createMetrics(sources: MetricsSources): ServerMetrics {
  const registry = new Registry();
  // Process metrics and the event-loop lag (nodejs_eventloop_lag_seconds and its percentiles).
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  new Gauge({
    name: 'roommesh_connections',
    help: 'Open socket.io connections on this process',
    registers,
    collect() {
      this.set(sources.connections());
    },
  });
  new Gauge({
    name: 'roommesh_rooms',
    help: 'Rooms with at least one participant on this process',
    registers,
    collect() {
      this.set(sources.rooms());
    },
  });
  new Gauge({
    name: 'roommesh_participants',
    help: 'Participants joined through this process',
    registers,
    collect() {
      this.set(sources.participants());
    },
  });
  new Gauge({
    name: 'roommesh_ready',
    help: '1 when /readyz answers 200',
    registers,
    collect() {
      this.set(sources.ready() ? 1 : 0);
    },
  });
  return {
    registry,
    joins: new Counter({
      name: 'roommesh_joins_total',
      help: 'Join and resume requests by result (ok, resumed, or the refusal reason)',
      labelNames: ['result'],
      registers,
    }),
    signals: new Counter({
      name: 'roommesh_signals_relayed_total',
      help: 'Signals relayed by kind',
      labelNames: ['kind'],
      registers,
    }),
    rejections: new Counter({
      name: 'roommesh_rejections_total',
      help: 'Refused events and connections by reason',
      labelNames: ['reason'],
      registers,
    }),
    payloadBytes: new Histogram({
      name: 'roommesh_event_payload_bytes',
      help: 'Size of received events in bytes',
      buckets: [64, 256, 1024, 4096, 16_384, 65_536, 262_144],
      registers,
    }),
    relayedBytes: new Counter({
      name: 'roommesh_relayed_bytes_total',
      help: 'Bytes of relayed frames forwarded by this process (sealed end to end; the server cannot read them)',
      registers,
    }),
    relayedFrames: new Counter({
      name: 'roommesh_relayed_frames_total',
      help: 'Relayed frames forwarded by this process',
      registers,
    }),
    relayRefusals: new Counter({
      name: 'roommesh_relay_refusals_total',
      help: 'Relayed frames refused and dropped, by reason',
      labelNames: ['reason'],
      registers,
    }),
    membersSwept: new Counter({
      name: 'roommesh_members_swept_total',
      help: 'Participants adopted from a dead process, to hold for a resume',
      registers,
    }),
  };
}

/** Counts a refusal. */
export function countRejection(metrics: ServerMetrics, reason: SignalingErrorReason): void {
  metrics.rejections.inc({ reason });
}

/** Counts a relayed signal. */
export function countSignal(metrics: ServerMetrics, data: SignalData): void {
  metrics.signals.inc({ kind: data.type });
}
