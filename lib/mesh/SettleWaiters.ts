/** Callers of the mesh's open() waiting for participants to settle: up, or given up on. */

/** Waiting callers, by participant id. @internal */
export class SettleWaiters {
  readonly #waiters = new Map<string, Array<() => void>>();

  /** Resolves once {@link settle} is called for `id`. */
  wait(id: string): Promise<void> {
    return new Promise((resolve) => {
      const list = this.#waiters.get(id);
      if (list === undefined) this.#waiters.set(id, [resolve]);
      else list.push(resolve);
    });
  }

  /** `id` is up or was given up on: its callers stop waiting. */
  settle(id: string): void {
    const list = this.#waiters.get(id);
    if (list === undefined) return;
    this.#waiters.delete(id);
    for (const resolve of list) resolve();
  }

  /** Every caller stops waiting. */
  settleAll(): void {
    for (const id of [...this.#waiters.keys()]) this.settle(id);
  }
}
