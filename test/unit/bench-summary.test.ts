import { expect } from 'chai';
import { DEFAULT_BENCH_OPTIONS } from '../../bench/options.js';
import { summarise } from '../../bench/report/summary.js';
import { formatTable } from '../../bench/report/table.js';
import type { Measurement, ScenarioSpec } from '../../bench/scenarios/types.js';

const spec: ScenarioSpec = {
  id: 'mesh',
  title: 'mesh formation',
  describe: () => 'test',
  metrics: [
    {
      id: 'formationMs',
      label: 'time',
      unit: 'ms',
      better: 'lower',
      goals: [
        { vs: 'raw', ratio: 1.25 },
        { value: 100, caseId: 'N=10', transports: ['roommesh'] },
      ],
    },
    { id: 'relayedKiB', label: 'relayed', unit: 'KiB', better: 'lower', goals: [], transports: ['roommesh'] },
  ],
  transports: ['roommesh', 'roommesh-direct', 'raw'],
};

function m(caseId: string, transport: Measurement['transport'], round: number, formationMs: number): Measurement {
  return {
    scenario: 'mesh',
    caseId,
    transport,
    round,
    metrics: { formationMs, ...(transport === 'roommesh' ? { relayedKiB: 3 } : {}) },
    loadAvg1: 0,
    wallMs: 0,
  };
}

describe('bench summary: absolute goals, goals of some transports, metrics of some transports', () => {
  const ms = [
    m('N=2', 'roommesh', 1, 20),
    m('N=2', 'raw', 1, 200),
    m('N=2', 'roommesh-direct', 1, 150),
    m('N=10', 'roommesh', 1, 90),
    m('N=10', 'roommesh', 2, 120),
    m('N=10', 'roommesh', 3, 95),
    m('N=10', 'raw', 1, 400),
    m('N=10', 'raw', 2, 400),
    m('N=10', 'raw', 3, 400),
  ];

  it('holds the median to an absolute bound in its case only, and only the transports it names', () => {
    const rows = summarise([spec], ms).filter((r) => r.metric === 'formationMs');
    const goals = (caseId: string, t: string): unknown[] =>
      rows
        .find((r) => r.caseId === caseId && r.transport === t)!
        .goals.map((g) => ['vs' in g ? g.vs : g.value, g.measured, g.met]);
    expect(goals('N=10', 'roommesh')).to.deep.equal([
      ['raw', 0.2375, true],
      [100, 95, true],
    ]);
    expect(goals('N=2', 'roommesh')).to.deep.equal([['raw', 0.1, true]]);
    expect(goals('N=10', 'raw')).to.deep.equal([]);
    expect(goals('N=2', 'roommesh-direct')).to.deep.equal([]);
  });

  it('says NOT met when the median is at the bound or over it, and prints the bound with its unit', () => {
    const slow = ms.map((x) =>
      x.transport === 'roommesh' && x.caseId === 'N=10' ? m('N=10', 'roommesh', x.round, 100) : x,
    );
    const rows = summarise([spec], slow);
    const goal = rows.find((r) => r.caseId === 'N=10' && r.transport === 'roommesh' && r.metric === 'formationMs')!;
    expect(goal.goals.map((g) => g.met)).to.deep.equal([true, false]);
    expect(formatTable([spec], rows, DEFAULT_BENCH_OPTIONS)).to.include('< 100 ms: NOT met');
  });

  it('summarises a metric only for the transports that report it', () => {
    const rows = summarise([spec], ms).filter((r) => r.metric === 'relayedKiB');
    expect([...new Set(rows.map((r) => r.transport))]).to.deep.equal(['roommesh']);
  });
});
