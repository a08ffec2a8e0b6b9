import { BASELINE_ROLES, TRANSPORT_INFO, baselineOf, type BaselineRole, type TransportId } from '../protocol.js';
import type { Goal, Measurement, MetricSpec, ScenarioSpec } from '../scenarios/types.js';
import { spread, type Spread } from './stats.js';

/** A goal checked against what was measured. */
export type GoalResult = Goal & {
  better: 'higher' | 'lower';
  /** The metric's unit, for an absolute goal's text. */
  unit: string;
  /** Median of the per-round ratios roommesh / baseline, or of the values for an absolute goal; undefined when not measured. */
  measured: number | undefined;
  met: boolean | undefined;
};

/** Whether `goal` holds `transport` in case `caseId`. */
function appliesTo(goal: Goal, transport: TransportId, caseId: string): boolean {
  if (goal.caseId !== undefined && goal.caseId !== caseId) return false;
  return goal.transports === undefined ? TRANSPORT_INFO[transport].goals : goal.transports.includes(transport);
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
    const goals = metric.goals
      .filter((g) => appliesTo(g, transport, caseId))
      .map((g): GoalResult => {
        const [measured, bound] = 'vs' in g ? [ratios[g.vs]?.median, g.ratio] : [spread(values)?.median, g.value];
        // An absolute bound in the lower-is-better sense is strict: "under 100 ms".
        const met =
          measured === undefined
            ? undefined
            : metric.better === 'higher'
              ? measured >= bound
              : 'vs' in g
                ? measured <= bound
                : measured < bound;
        return { ...g, better: metric.better, unit: metric.unit, measured, met };
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
      for (const metric of spec.metrics) {
        const reporting = transports.filter((t) => metric.transports?.includes(t) ?? true);
        rows.push(...summariseMetric(spec, metric, caseId, ms, reporting));
      }
    }
  }
  return rows;
}
