import { BASELINE_ROLES, TRANSPORT_INFO, baselineOf, type BaselineRole, type TransportId } from '../protocol.js';
import type { Goal, Measurement, MetricSpec, ScenarioSpec } from '../scenarios/types.js';
import { spread, type Spread } from './stats.js';

/** A goal checked against the ratios measured. */
export interface GoalResult extends Goal {
  better: 'higher' | 'lower';
  /** Median of the per-round ratios roommesh / baseline; undefined when not measured. */
  measured: number | undefined;
  met: boolean | undefined;
}

/** One transport's numbers for one metric of one case. */
export interface SummaryRow {
  scenario: string;
  caseId: string;
  metric: string;
  transport: TransportId;
  values: Spread | undefined;
  unsupported: string | undefined;
  failures: string[];
  /** Per-round ratios against each baseline of the same host (raw-chromium for a page), measured in the same rounds. */
  ratios: Partial<Record<BaselineRole, Spread>>;
  goals: GoalResult[];
}

function valueOf(ms: Measurement[], transport: TransportId, round: number, metric: string): number | undefined {
  return ms.find((m) => m.transport === transport && m.round === round)?.metrics?.[metric];
}

function summariseMetric(
  spec: ScenarioSpec,
  metric: MetricSpec,
  caseId: string,
  ms: Measurement[],
  transports: TransportId[],
): SummaryRow[] {
  return transports.map((transport) => {
    const own = ms.filter((m) => m.transport === transport);
    const values = own.flatMap((m) => (m.metrics?.[metric.id] === undefined ? [] : [m.metrics[metric.id] as number]));
    const ratios: Partial<Record<BaselineRole, Spread>> = {};
    for (const role of BASELINE_ROLES) {
      const base = baselineOf(transport, role);
      if (base === undefined) continue;
      const perRound = own.flatMap((m) => {
        const mine = m.metrics?.[metric.id];
        const theirs = valueOf(ms, base, m.round, metric.id);
        return mine === undefined || theirs === undefined || theirs === 0 ? [] : [mine / theirs];
      });
      const s = spread(perRound);
      if (s !== undefined) ratios[role] = s;
    }
    const goals: GoalResult[] = !TRANSPORT_INFO[transport].goals
      ? []
      : metric.goals.map((g) => {
          const measured = ratios[g.vs]?.median;
          const met =
            measured === undefined ? undefined : metric.better === 'higher' ? measured >= g.ratio : measured <= g.ratio;
          return { ...g, better: metric.better, measured, met };
        });
    return {
      scenario: spec.id,
      caseId,
      metric: metric.id,
      transport,
      values: spread(values),
      unsupported: own.find((m) => m.unsupported !== undefined)?.unsupported,
      failures: own.flatMap((m) => (m.error === undefined ? [] : [`round ${m.round}: ${m.error}`])),
      ratios,
      goals,
    };
  });
}

/** Every row of the results: per scenario, case, metric and transport. */
export function summarise(specs: ScenarioSpec[], measurements: Measurement[]): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const spec of specs) {
    const mine = measurements.filter((m) => m.scenario === spec.id);
    const cases = [...new Set(mine.map((m) => m.caseId))];
    const transports = spec.transports.filter((t) => mine.some((m) => m.transport === t));
    for (const caseId of cases) {
      const ms = mine.filter((m) => m.caseId === caseId);
      for (const metric of spec.metrics) rows.push(...summariseMetric(spec, metric, caseId, ms, transports));
    }
  }
  return rows;
}
