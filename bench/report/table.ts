import type { BenchOptions } from '../options.js';
import { TRANSPORT_LABELS } from '../protocol.js';
import type { ScenarioSpec } from '../scenarios/types.js';
import type { Spread } from './stats.js';
import type { SummaryRow } from './summary.js';

function num(v: number): string {
  if (!Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en');
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function ratio(s: Spread | undefined): string {
  if (s === undefined) return '';
  return s.n > 1 ? `${s.median.toFixed(2)}× (${s.min.toFixed(2)}–${s.max.toFixed(2)})` : `${s.median.toFixed(2)}×`;
}

function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function goalText(row: SummaryRow): string {
  return row.goals
    .map((g) => {
      const bound =
        'vs' in g
          ? `${g.better === 'higher' ? '≥' : '≤'}${g.ratio}× ${g.vs}`
          : `${g.better === 'higher' ? '≥' : '<'} ${g.value} ${g.unit}`;
      return `${bound}: ${g.met === undefined ? 'not measured' : g.met ? 'met' : 'NOT met'}`;
    })
    .join('; ');
}

/** The human-readable results: one block per scenario case and metric, one line per transport. */
export function formatTable(specs: ScenarioSpec[], rows: SummaryRow[], options: BenchOptions): string {
  const out: string[] = [];
  for (const spec of specs) {
    const mine = rows.filter((r) => r.scenario === spec.id);
    if (mine.length === 0) continue;
    out.push(`\n## ${spec.title}: ${spec.describe(options)}`);
    const cases = [...new Set(mine.map((r) => r.caseId))];
    for (const caseId of cases) {
      for (const metric of spec.metrics) {
        // A metric a host does not measure (a page cannot read its RSS) has no value, no failure: no line.
        const block = mine.filter(
          (r) =>
            r.caseId === caseId &&
            r.metric === metric.id &&
            (r.values !== undefined || r.unsupported !== undefined || r.failures.length > 0),
        );
        if (block.length === 0) continue;
        const head = [
          `${caseId === '' ? '' : `${caseId} `}${metric.label} (${metric.unit}, ${metric.better} is better)`,
          'median',
          'min–max',
          'spread',
          'vs raw',
          'vs socket.io',
          'goal',
        ];
        const lines = block.map((r) => {
          const label = TRANSPORT_LABELS[r.transport];
          if (r.values === undefined) {
            const why =
              r.unsupported !== undefined ? `unsupported: ${r.unsupported}` : `failed: ${r.failures[0] ?? 'no result'}`;
            return [label, why.length > 90 ? `${why.slice(0, 87)}...` : why, '', '', '', '', goalText(r)];
          }
          const v = r.values;
          const failed = r.failures.length > 0 ? ` (${r.failures.length} failed)` : '';
          return [
            label,
            num(v.median) + failed,
            `${num(v.min)}–${num(v.max)}`,
            `${v.spreadPct.toFixed(0)}%`,
            ratio(r.ratios.raw),
            ratio(r.ratios.socketio),
            goalText(r),
          ];
        });
        out.push('', pad([head, ...lines]));
      }
    }
  }
  return out.join('\n');
}
