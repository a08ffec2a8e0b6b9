import { InvalidArgumentError } from '../errors.js';
import type { Logger } from '../logger.js';
import { defaultLogger } from '../logger.js';

/** A map from event name to listener signature. */
export type EventMap<E> = { [K in keyof E]: (...args: never[]) => void };

/** Emits an event of the map `E`: what an emitter hands a helper that speaks for it. */
export type Emit<E extends EventMap<E>> = <K extends keyof E>(event: K, ...args: Parameters<E[K]>) => void;

/**
 * Every name of the event map `E`, each set to `true`: the map's keys at run time, which the compiler keeps
 * equal to the map (a missing or extra name does not compile).
 */
export type EventNames<E> = { readonly [K in keyof E]: true };

/**
 * A small typed event emitter that works the same in browsers and Node. A listener that throws is
 * logged and does not stop the others, nor unwind into the network code that emitted the event. Given its
 * event names, it refuses a listener for any other name, which would never be called (a typo in an app
 * without TypeScript, or an event of another emitter).
 */
export class TypedEmitter<E extends EventMap<E>> {
  /** Type-level only: lets helpers infer the event map. @internal */
  declare readonly eventMapType?: E;
  #listeners = new Map<keyof E, Set<E[keyof E]>>();
  /** @internal */
  protected emitterLogger: Logger = defaultLogger;
  readonly #names: EventNames<E> | undefined;

  /** `names`: the events this emitter emits; a listener for another name is refused. */
  constructor(names?: EventNames<E>) {
    this.#names = names;
  }

  /** Adds a listener; throws {@link InvalidArgumentError} for an event this emitter does not emit, or a listener that is not a function. */
  on<K extends keyof E>(event: K, listener: E[K]): this {
    this.#check('on', event, listener);
    let set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return this;
  }

  /** Adds a listener that is removed after its first call; `off` with the same listener removes it before. */
  once<K extends keyof E>(event: K, listener: E[K]): this {
    this.#check('once', event, listener);
    const wrapper = Object.assign(
      (...args: Parameters<E[K]>) => {
        this.#listeners.get(event)?.delete(wrapper as unknown as E[K]);
        listener(...args);
      },
      { onceOf: listener },
    );
    return this.on(event, wrapper as unknown as E[K]);
  }

  /** Removes a listener, also one added with {@link once}; throws like {@link on}. */
  off<K extends keyof E>(event: K, listener: E[K]): this {
    this.#check('off', event, listener);
    const set = this.#listeners.get(event);
    if (set === undefined) return this;
    if (!set.delete(listener)) {
      for (const l of set) if ((l as { onceOf?: unknown }).onceOf === listener) set.delete(l);
    }
    return this;
  }

  /** Number of listeners for an event. */
  listenerCount<K extends keyof E>(event: K): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  #check(what: string, event: keyof E, listener: unknown): void {
    const names = this.#names;
    if (names !== undefined && !Object.prototype.hasOwnProperty.call(names, event)) {
      throw new InvalidArgumentError(
        `${what}: no event ${JSON.stringify(String(event))} here; the events are ${Object.keys(names).join(', ')}`,
      );
    }
    if (typeof listener !== 'function') throw new InvalidArgumentError(`${what}: the listener is not a function`);
  }

  /** @internal */
  protected emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    const set = this.#listeners.get(event);
    if (set === undefined || set.size === 0) return;
    for (const listener of set) {
      try {
        listener(...args);
      } catch (err) {
        try {
          this.emitterLogger.error({ event: String(event), err }, 'an event listener threw');
        } catch {
          // A logger that throws too: the app's listener failed, and nothing of ours may fail with it.
        }
      }
    }
  }
}
