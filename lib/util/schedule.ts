/** Running a function soon, the same way in browsers and Node. */

/**
 * Runs `fn` in a later task: after the current one and the microtasks it queued (Node's `setImmediate`,
 * else a zero timeout). What one turn of the event loop wrote is then known as a whole.
 */
export const nextTurn: (fn: () => void) => void =
  typeof setImmediate === 'function' ? (fn) => void setImmediate(fn) : (fn) => void setTimeout(fn, 0);

/** Longest delay browsers and Node keep for a timer; a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Keeps a timer from holding a Node process open on its own; nothing in browsers. */
export function unrefTimer(timer: unknown): void {
  (timer as { unref?: () => void }).unref?.();
}
