import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { DEFAULT_BENCH_OPTIONS } from '../../bench/options.js';
import { TRANSPORT_INFO, TRANSPORT_LABELS } from '../../bench/protocol.js';
import { SCENARIO_SPECS, runBench, type BenchResult } from '../../bench/run.js';

// `npm run bench` is never part of the tests; this runs its whole harness with tiny sizes, in Node
// processes and in Chromium pages, so it cannot rot.
describe('bench harness (smoke, tiny sizes)', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'roommesh-bench-'));
  let result: BenchResult;
  after(() => rmSync(dir, { recursive: true, force: true }));

  before(async () => {
    result = await runBench({
      ...DEFAULT_BENCH_OPTIONS,
      rounds: 1,
      warmupFraction: 0,
      smallMessages: 300,
      latencyRoundTrips: 20,
      attachmentBytes: 512 * 1024,
      meshSizes: [2],
      broadcastReceivers: 2,
      broadcastMessages: 50,
      resultsDir: dir,
      operationTimeoutMs: 30_000,
    });
  });

  it('measures every scenario for every transport it applies to, in Node processes and in Chromium pages', () => {
    expect(
      result.measurements.filter((m) => m.error !== undefined).map((m) => `${m.scenario} ${m.transport}: ${m.error}`),
    ).to.deep.equal([]);
    expect(result.environment.runtimes).to.deep.equal(['node', 'chromium']);
    for (const spec of SCENARIO_SPECS) {
      for (const transport of spec.transports) {
        const m = result.measurements.find((x) => x.scenario === spec.id && x.transport === transport);
        expect(m, `${spec.id} × ${transport}`).to.not.equal(undefined);
        expect(m!.unsupported, `${spec.id} × ${transport} unsupported`).to.equal(undefined);
        for (const metric of spec.metrics) {
          const v = m!.metrics?.[metric.id];
          // A metric of some transports only (the server's cost, relaying first) is absent for the others.
          if (metric.transports !== undefined && !metric.transports.includes(transport)) {
            expect(v, `${spec.id} × ${transport} ${metric.id}`).to.equal(undefined);
            continue;
          }
          // A page cannot read its process's RSS: Chromium participants report formation time only.
          if (metric.id === 'peakRssMiB' && TRANSPORT_INFO[transport].host === 'chromium') {
            expect(v, `${spec.id} × ${transport} ${metric.id}`).to.equal(undefined);
            continue;
          }
          expect(v, `${spec.id} × ${transport} ${metric.id}`)
            .to.be.a('number')
            .that.is.greaterThan(0)
            .and.lessThan(Number.POSITIVE_INFINITY);
        }
      }
    }
  });

  it('prints a table with every scenario and transport, ratios and goals, and writes the same as JSON', () => {
    for (const spec of SCENARIO_SPECS) expect(result.table).to.include(`## ${spec.title}`);
    for (const label of Object.values(TRANSPORT_LABELS)) expect(result.table).to.include(label);
    expect(result.table).to.match(/≥0\.85× raw: (met|NOT met)/);
    // Each roommesh is held to its goals against the baselines of its own host.
    const goals = result.summary.filter((r) => r.scenario === 'attachment' && r.goals.length > 0);
    expect(goals.map((r) => [r.transport, r.goals.map((g) => g.measured !== undefined)])).to.deep.equal([
      ['roommesh', [true]],
      ['roommesh-relayed', [true]],
      ['roommesh-chromium', [true]],
    ]);
    expect(goals.find((r) => r.transport === 'roommesh-relayed')?.goals.map((g) => 'vs' in g && g.vs)).to.deep.equal([
      'socketio',
    ]);
    expect(result.table).to.match(/\d\.\d\d×/);
    expect(result.file).to.be.a('string');
    const written = JSON.parse(readFileSync(result.file!, 'utf8')) as BenchResult;
    expect(written.measurements).to.deep.equal(result.measurements);
    expect(written.summary.length).to.be.greaterThan(0);
  });
});
