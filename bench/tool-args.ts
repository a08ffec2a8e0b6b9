/**
 * The command line of the bench's side tools (soak, chaos, frame-size, signaling-load, profile-summary):
 * `--help` prints the tool's usage, and a flag or value it cannot take prints what is wrong and the usage,
 * instead of a stack trace or a run with NaN in it.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Prints `problem` and the usage to stderr, and exits 2. */
export function usageError(usage: string, problem: string): never {
  process.stderr.write(`${problem}\nusage: ${usage}\n`);
  process.exit(2);
}

/** `parseArgs` of `process.argv`, strict; `--help` prints the usage and exits 0, a parse error exits 2 with it. */
export function toolArgs<C extends ParseArgsConfig>(usage: string, config: C): ReturnType<typeof parseArgs<C>> {
  const args = config.args ?? process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`usage: ${usage}\n`);
    process.exit(0);
  }
  try {
    return parseArgs<C>({ ...config, args, strict: true });
  } catch (err) {
    return usageError(usage, err instanceof Error ? err.message : String(err));
  }
}

/** `value` as a number that passes `ok`, or a usage error naming `what` and `expected`. */
export function numberArg(
  usage: string,
  what: string,
  value: string,
  expected: string,
  ok: (n: number) => boolean,
): number {
  const n = Number(value);
  if (value.trim() === '' || !ok(n)) usageError(usage, `${what} must be ${expected}, got '${value}'`);
  return n;
}

/** A whole number of at least `min`. */
export const atLeast =
  (min: number) =>
  (n: number): boolean =>
    Number.isSafeInteger(n) && n >= min;
