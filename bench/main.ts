/**
 * `npm run bench`: scripts/bench.mjs builds, then runs this inside a loopback-only network namespace.
 * Prints one line per measurement while it runs, then the table, and writes the JSON results.
 */
import { loadavg } from 'node:os';
import { USAGE, parseBenchArgs } from './options.js';
import { runBench } from './run.js';

let options;
try {
  options = parseBenchArgs(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
  process.exit(2);
}
if (options === undefined) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const log = (line: string): void => void process.stdout.write(`${line}\n`);
log(
  `roommesh bench: ${options.scenarios.join(', ')} × ${options.transports.join(', ')}, ${options.rounds} rounds; load average now ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const t0 = performance.now();
const result = await runBench(options, log);
log(result.table);
const loads = result.measurements.map((m) => m.loadAvg1);
log(
  `\n${result.measurements.length} measurements in ${((performance.now() - t0) / 1000).toFixed(0)} s; 1-min load average during the run ${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} on ${String(result.environment.cpus)} cores.`,
);
log(
  'Ratios are medians of per-round ratios (each round measures every transport back to back); spread = (max − min) / median.',
);
if (result.file !== undefined) log(`JSON: ${result.file}`);
const failed = result.measurements.filter((m) => m.error !== undefined);
if (failed.length > 0) {
  log(`${failed.length} measurements failed:`);
  for (const m of failed) log(`  ${m.scenario} ${m.caseId} ${m.transport} round ${m.round}: ${m.error}`);
  process.exitCode = 1;
}
