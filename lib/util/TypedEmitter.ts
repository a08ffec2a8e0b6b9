import type { Logger } from '../logger.js';
import { defaultLogger } from '../logger.js';

/** A map from event name to listener signature. */
export type EventMap<E> = { [K in keyof E]: (...args: never[]) => void };

/** Emits an event of the map `E`: what an emitter hands a helper that speaks for it. */
export type Emit<E extends EventMap<E>> = <K extends keyof E>(event: K, ...args: Parameters<E[K]>) => void;

/**
 * A small typed event emitter that works the same in browsers and Node. A listener that throws is
 * logged and does not stop the others, nor unwind into the network code that emitted the event.
 */
export class TypedEmitter<E extends EventMap<E>> {
  /** Type-level only: lets helpers infer the event map. @internal */
  declare readonly eventMapType?: E;
  #listeners = new Map<keyof E, Set<E[keyof E]>>();
  /** @internal */
  protected emitterLogger: Logger = defaultLogger;

  /** Adds a listener. */
  on<K extends keyof E>(event: K, listener: E[K]): this {
    let set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return this;
  }

  /** Adds a listener that is removed after its first call. */
  once<K extends keyof E>(event: K, listener: E[K]): this {
    const wrapper = ((...args: Parameters<E[K]>) => {
      this.off(event, wrapper);
      listener(...args);
    }) as E[K];
    return this.on(event, wrapper);
  }

  /** Removes a listener. */
  off<K extends keyof E>(event: K, listener: E[K]): this {
    this.#listeners.get(event)?.delete(listener);
    return this;
  }

  /** Number of listeners for an event. */
  listenerCount<K extends keyof E>(event: K): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  /** @internal */
  protected emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    const set = this.#listeners.get(event);
    if (set === undefined || set.size === 0) return;
    for (const listener of set) {
      try {
        listener(...args);
      } catch (err) {
        this.emitterLogger.error({ event: String(event), err }, 'an event listener threw');
      }
    }
  }
}
