/** The event emitter under the room, messaging and every inner part: Node's rules for once, off and changes during an emit, throwing listeners, the names it refuses. */
import { expect } from 'chai';
import { InvalidArgumentError } from '../../lib/errors.js';
import { TypedEmitter, type EventNames } from '../../lib/util/TypedEmitter.js';

interface Events {
  tick: (n: number) => void;
  done: () => void;
}
const NAMES: EventNames<Events> = { tick: true, done: true };

/** An emitter whose emit the test may call, logging into `errors`. */
class Emitter extends TypedEmitter<Events> {
  readonly errors: string[] = [];
  constructor(names?: EventNames<Events>) {
    super(names);
    const errors = this.errors;
    this.emitterLogger = {
      debug() {},
      info() {},
      warn() {},
      error(_obj: object, msg: string) {
        errors.push(msg);
      },
    };
  }
  fire(n: number): void {
    this.emit('tick', n);
  }
}

describe('TypedEmitter', () => {
  it('once() calls its listener once; off() with the same listener removes it before it fires', () => {
    const e = new Emitter(NAMES);
    const seen: number[] = [];
    const listener = (n: number): void => void seen.push(n);
    e.once('tick', listener);
    e.fire(1);
    e.fire(2);
    expect(seen).to.deep.equal([1]);
    e.once('tick', listener);
    expect(e.listenerCount('tick')).to.equal(1);
    e.off('tick', listener);
    expect(e.listenerCount('tick')).to.equal(0);
    e.fire(3);
    expect(seen).to.deep.equal([1]);
  });

  it('off() removes a listener added with on(), and leaves the others', () => {
    const e = new Emitter(NAMES);
    const seen: string[] = [];
    const a = (n: number): void => void seen.push(`a${n}`);
    const b = (n: number): void => void seen.push(`b${n}`);
    e.on('tick', a).on('tick', b);
    e.off('tick', a);
    e.fire(1);
    expect(seen).to.deep.equal(['b1']);
  });

  it('a listener that throws is logged and the others still run', () => {
    const e = new Emitter(NAMES);
    const seen: number[] = [];
    e.on('tick', () => {
      throw new Error('boom');
    });
    e.on('tick', (n) => void seen.push(n));
    e.fire(7);
    expect(seen).to.deep.equal([7]);
    expect(e.errors).to.deep.equal(['an event listener threw']);
  });

  it('a listener that throws with a logger that throws too: the others still run, nothing escapes emit', () => {
    const e = new Emitter(NAMES);
    (e as unknown as { emitterLogger: { error: () => void } }).emitterLogger.error = () => {
      throw new TypeError('logger.error is not a function');
    };
    const seen: number[] = [];
    e.on('tick', () => {
      throw new Error('boom');
    });
    e.on('tick', (n) => void seen.push(n));
    expect(() => e.fire(7)).to.not.throw();
    expect(seen).to.deep.equal([7]);
  });

  it("follows Node's EventEmitter when listeners change during an emit, and for a listener added twice", async () => {
    const { EventEmitter } = await import('node:events');
    /** The same script against an emitter: what it calls, in order. */
    const script = (
      on: (l: (n: number) => void) => void,
      off: (l: (n: number) => void) => void,
      once: (l: (n: number) => void) => void,
      fire: (n: number) => void,
    ): string[] => {
      const seen: string[] = [];
      const inner = (n: number): void => void seen.push(`inner${n}`);
      const twice = (n: number): void => void seen.push(`twice${n}`);
      const removed = (n: number): void => void seen.push(`removed${n}`);
      on((n) => {
        seen.push(`outer${n}`);
        if (n === 1) once(inner); // added during an emit: from the next emit on
        if (n === 2) off(removed); // removed during an emit: still called in this one
      });
      on(removed);
      on(twice);
      on(twice);
      fire(1);
      fire(2);
      off(twice); // removes one of the two
      fire(3);
      return seen;
    };
    const node = new EventEmitter();
    const expected = script(
      (l) => node.on('tick', l),
      (l) => node.off('tick', l),
      (l) => node.once('tick', l),
      (n) => node.emit('tick', n),
    );
    const e = new Emitter(NAMES);
    const got = script(
      (l) => e.on('tick', l),
      (l) => e.off('tick', l),
      (l) => e.once('tick', l),
      (n) => e.fire(n),
    );
    expect(expected).to.deep.equal([
      'outer1',
      'removed1',
      'twice1',
      'twice1',
      'outer2',
      'removed2',
      'twice2',
      'twice2',
      'inner2',
      'outer3',
      'twice3',
    ]);
    expect(got).to.deep.equal(expected);
  });

  it('a once listener that emits the same event again is called once', () => {
    const e = new Emitter(NAMES);
    let calls = 0;
    e.once('tick', (n) => {
      calls++;
      if (n === 1) e.fire(2);
    });
    e.fire(1);
    expect(calls).to.equal(1);
    expect(e.listenerCount('tick')).to.equal(0);
  });

  it('given its names, refuses any other name, and a listener that is not a function, in on, once and off', () => {
    const e = new Emitter(NAMES);
    const on = e.on.bind(e) as (event: string, listener: unknown) => unknown;
    expect(() => on('tock', () => {})).to.throw(
      InvalidArgumentError,
      'on: no event "tock" here; the events are tick, done',
    );
    expect(() => (e.once.bind(e) as typeof on)('tock', () => {})).to.throw(InvalidArgumentError, /^once: no event/);
    expect(() => (e.off.bind(e) as typeof on)('tock', () => {})).to.throw(InvalidArgumentError, /^off: no event/);
    expect(() => on('tick', 'not a function')).to.throw(InvalidArgumentError, 'on: the listener is not a function');
    expect(e.listenerCount('tick')).to.equal(0);
    // Without names (the internal emitters) any name goes; the listener must still be a function.
    const loose = new Emitter();
    expect(() => (loose.on.bind(loose) as typeof on)('tock', () => {})).to.not.throw();
    expect(() => (loose.on.bind(loose) as typeof on)('tock', 1)).to.throw(InvalidArgumentError);
  });
});
