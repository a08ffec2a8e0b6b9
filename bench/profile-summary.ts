/**
 * Reads .cpuprofile files written by `npm run bench -- --profile DIR` and prints where each process spent
 * its CPU: the top functions by self time and by inclusive time, as shares of the busy (non-idle) time.
 *   node dist/bench/profile-summary.js [--top N] FILE.cpuprofile...
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { atLeast, numberArg, toolArgs, usageError } from './tool-args.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

/** The parts of V8's .cpuprofile format used here. */
export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Time attributed to one function. */
export interface FunctionTime {
  name: string;
  selfMs: number;
  totalMs: number;
}

const IDLE = new Set(['(idle)', '(program)']);

function frameName(f: CallFrame): string {
  const file =
    f.url === '' ? '' : ` ${f.url.replace(/^file:\/\/.*?\/(node_modules|dist)\//, '$1/')}:${f.lineNumber + 1}`;
  return `${f.functionName === '' ? '(anonymous)' : f.functionName}${file}`;
}

/** Self and inclusive time per function, and the busy time they are shares of. */
export function summariseProfile(profile: CpuProfile): { busyMs: number; functions: FunctionTime[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  let busyMs = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const node = byId.get(id);
    if (node === undefined || IDLE.has(node.callFrame.functionName)) return;
    busyMs += ms;
    const own = frameName(node.callFrame);
    self.set(own, (self.get(own) ?? 0) + ms);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur);
      if (f === undefined || f.callFrame.functionName === '(root)') break;
      const key = frameName(f.callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      total.set(key, (total.get(key) ?? 0) + ms);
    }
  });
  const functions = [...total.entries()].map(([name, totalMs]) => ({ name, selfMs: self.get(name) ?? 0, totalMs }));
  return { busyMs, functions };
}

function main(): void {
  const usage = 'node dist/bench/profile-summary.js [--top 25] FILE.cpuprofile...';
  const { values, positionals } = toolArgs(usage, {
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' } },
  });
  const top = numberArg(usage, '--top', values.top, 'a whole number of at least 1', atLeast(1));
  if (positionals.length === 0) usageError(usage, 'name at least one .cpuprofile file');
  for (const file of positionals) {
    const { busyMs, functions } = summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
    const pct = (ms: number): string => `${((ms / busyMs) * 100).toFixed(1).padStart(5)}%`;
    process.stdout.write(`\n# ${basename(file)}: ${busyMs.toFixed(0)} ms busy\n## self\n`);
    for (const f of [...functions].sort((a, b) => b.selfMs - a.selfMs).slice(0, top))
      process.stdout.write(`${pct(f.selfMs)}  ${f.name}\n`);
    process.stdout.write('## inclusive\n');
    for (const f of [...functions].sort((a, b) => b.totalMs - a.totalMs).slice(0, top))
      process.stdout.write(`${pct(f.totalMs)}  ${f.name}\n`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
