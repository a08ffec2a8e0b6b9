/**
 * The delay before retry number `attempt` (1, 2, 3, ...): `baseMs` doubling each time, capped at `maxMs`,
 * with jitter (a random 50 to 100 % of it) so that many clients failing at once do not retry in step.
 * @internal
 */
export function backoffDelayMs(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), maxMs);
  return ceiling * (0.5 + Math.random() / 2);
}
