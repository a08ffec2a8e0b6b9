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

/** A listener added with `once`: it knows the listener it wraps, so that `off` finds it. */
type OnceWrapper = ((...args: never[]) => void) & { onceOf?: unknown };

/**
 * A small typed event emitter that works the same in browsers and Node, with Node's EventEmitter rules: the
 * listeners of an event are called in the order they were added, the same function added twice is called
 * twice (and `off` removes the one added last), and a listener added or removed while an event is being
 * emitted takes effect from the next emit (each event's list is replaced, never changed in place, so an emit
 * walks the list it started with, at no cost per emit). A listener that throws is
 * logged and does not stop the others, nor unwind into the network code that emitted the event. Given its
 * event names, it refuses a listener for any other name, which would never be called (a typo in an app
 * without TypeScript, or an event of another emitter).
 */
export class TypedEmitter<E extends EventMap<E>> {
  /** Type-level only: lets helpers infer the event map. @internal */
  declare readonly eventMapType?: E;
  /** Each event's listeners, oldest first; replaced on every change (see the class comment). */
  #listeners = new Map<keyof E, readonly E[keyof E][]>();
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
    const list = this.#listeners.get(event);
    this.#listeners.set(event, list === undefined ? [listener] : [...list, listener]);
    return this;
  }

  /** Adds a listener that is removed before its first call; `off` with the same listener removes it before. */
  once<K extends keyof E>(event: K, listener: E[K]): this {
    this.#check('once', event, listener);
    let fired = false;
    const wrapper = Object.assign(
      (...args: Parameters<E[K]>) => {
        if (fired) return;
        fired = true;
        this.#remove(event, wrapper);
        listener(...args);
      },
      { onceOf: listener },
    );
    return this.on(event, wrapper as unknown as E[K]);
  }

  /** Removes a listener (the one added last, when it was added more than once), also one added with {@link once}; throws like {@link on}. */
  off<K extends keyof E>(event: K, listener: E[K]): this {
    this.#check('off', event, listener);
    this.#remove(event, listener);
    return this;
  }

  /** Removes the last-added `listener` of `event`, or the last `once` wrapper of it. */
  #remove(event: keyof E, listener: unknown): void {
    const list = this.#listeners.get(event);
    if (list === undefined) return;
    for (let i = list.length - 1; i >= 0; i--) {
      const l = list[i] as OnceWrapper;
      if (l !== listener && l.onceOf !== listener) continue;
      if (list.length === 1) this.#listeners.delete(event);
      else this.#listeners.set(event, [...list.slice(0, i), ...list.slice(i + 1)]);
      return;
    }
  }

  /** Number of listeners for an event. */
  listenerCount<K extends keyof E>(event: K): number {
    return this.#listeners.get(event)?.length ?? 0;
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
    const list = this.#listeners.get(event);
    if (list === undefined) return;
    for (const listener of list) {
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
