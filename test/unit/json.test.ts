import { expect } from 'chai';
import fc from 'fast-check';
import { MAX_JSON_DEPTH, checkJsonObject } from '../../lib/protocol/json.js';

/** n nested containers: 1 is {} (or []), 2 is { a: {} } (or [[]]); `inner` replaces the innermost one's content. */
function nest(n: number, kind: 'object' | 'array' = 'object', inner?: unknown): unknown {
  let v: unknown =
    kind === 'object' ? (inner === undefined ? {} : { leaf: inner }) : inner === undefined ? [] : [inner];
  for (let i = 1; i < n; i++) v = kind === 'object' ? { a: v } : [v];
  return v;
}

function hasKey(v: unknown, key: string): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if (!Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, key)) return true;
  return Object.values(v).some((child) => hasKey(child, key));
}

function withoutNegativeZero(v: unknown): unknown {
  if (Object.is(v, -0)) return 0;
  if (Array.isArray(v)) return v.map(withoutNegativeZero);
  if (typeof v === 'object' && v !== null)
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withoutNegativeZero(x)]));
  return v;
}

class Point {
  x = 1;
}

describe('protocol/json checkJsonObject', () => {
  it('accepts plain objects of strings, finite numbers, booleans, null, arrays and objects', () => {
    const ok = [
      {},
      {
        s: '',
        t: 'é😀\u0000',
        n: 0,
        neg: -1.5,
        big: Number.MAX_VALUE,
        tiny: Number.MIN_VALUE,
        t1: true,
        f: false,
        z: null,
      },
      { list: [1, 'a', null, [], {}, [[{ deep: [true] }]]] },
      { nested: { a: { b: { c: [] } } } },
      { 'key with spaces': 1, '': 2, constructor: 3, toString: 'x', hasOwnProperty: false },
      Object.assign(Object.create(null) as object, {
        a: 1,
        b: Object.assign(Object.create(null) as object, { c: [] }),
      }),
      JSON.parse('{"a":[1,{"b":-0}],"c":"\\ud83d\\ude00"}') as unknown,
    ];
    for (const v of ok) expect(checkJsonObject(v), JSON.stringify(v)).to.equal(undefined);
  });

  it('refuses anything that is not a plain object at the top, naming it', () => {
    const bad: unknown[] = [
      null,
      undefined,
      [],
      [{}],
      'x',
      1,
      true,
      () => ({}),
      new Date(),
      new Map(),
      new Point(),
      new Uint8Array(1),
      Object.create({ a: 1 }),
    ];
    for (const v of bad) expect(checkJsonObject(v, 'payload'), String(v)).to.equal('payload is not a JSON object');
    expect(checkJsonObject(null)).to.equal('value is not a JSON object');
  });

  it('refuses non-JSON values anywhere inside, naming the path', () => {
    const cases: Array<[unknown, string]> = [
      [{ f: () => 1 }, 'm.f is a function, not JSON'],
      [{ u: undefined }, 'm.u is undefined, not JSON'],
      [{ a: [1, undefined] }, 'm.a[1] is undefined, not JSON'],
      [{ s: Symbol('x') }, 'm.s is a symbol, not JSON'],
      [{ b: 10n }, 'm.b is a bigint, not JSON'],
      [{ n: NaN }, 'm.n is not a finite number'],
      [{ n: Infinity }, 'm.n is not a finite number'],
      [{ a: { b: [{ c: -Infinity }] } }, 'm.a.b[0].c is not a finite number'],
      [{ p: new Point() }, 'm.p is not a plain object'],
      [{ bytes: new Uint8Array([1]) }, 'm.bytes is not a plain object'],
      [{ a: [new Uint8Array(0)] }, 'm.a[0] is not a plain object'],
      [{ m: new Map([['a', 1]]) }, 'm.m is not a plain object'],
      [{ s: new Set([1]) }, 'm.s is not a plain object'],
      [{ d: new Date(0) }, 'm.d is not a plain object'],
      [{ r: /x/ }, 'm.r is not a plain object'],
      [{ boxed: new String('x') }, 'm.boxed is not a plain object'],
      [{ e: new Error('x') }, 'm.e is not a plain object'],
      [{ inherits: Object.create({ a: 1 }) as object }, 'm.inherits is not a plain object'],
    ];
    for (const [v, message] of cases) expect(checkJsonObject(v, 'm')).to.equal(message);
  });

  it('reports the first problem in key order', () => {
    expect(checkJsonObject({ ok: 1, first: undefined, second: NaN }, 'v')).to.equal('v.first is undefined, not JSON');
  });

  it(`accepts nesting up to MAX_JSON_DEPTH (${MAX_JSON_DEPTH}) and refuses one more`, () => {
    expect(MAX_JSON_DEPTH).to.equal(64);
    expect(checkJsonObject(nest(MAX_JSON_DEPTH))).to.equal(undefined);
    expect(checkJsonObject({ a: nest(MAX_JSON_DEPTH - 1, 'array') })).to.equal(undefined);
    expect(checkJsonObject(nest(MAX_JSON_DEPTH + 1), 'p')).to.equal(
      `p${'.a'.repeat(MAX_JSON_DEPTH)} is nested deeper than ${MAX_JSON_DEPTH} (or contains itself)`,
    );
    expect(checkJsonObject({ a: nest(MAX_JSON_DEPTH, 'array') })).to.include(`nested deeper than ${MAX_JSON_DEPTH}`);
    // scalars inside the deepest container do not count as a level
    expect(checkJsonObject(nest(MAX_JSON_DEPTH, 'object', 'x'))).to.equal(undefined);
    expect(checkJsonObject({ a: nest(MAX_JSON_DEPTH - 1, 'array', null) })).to.equal(undefined);
  });

  it('returns an error, not a stack overflow, for very deep nesting', () => {
    expect(checkJsonObject(nest(1_000_000))).to.include('nested deeper than');
    expect(checkJsonObject({ a: nest(1_000_000, 'array') })).to.include('nested deeper than');
  });

  it('returns an error for cyclic objects and arrays instead of recursing forever', () => {
    const self: Record<string, unknown> = { name: 'x' };
    self.self = self;
    expect(checkJsonObject(self, 'c')).to.match(/^c(\.self)+ is nested deeper than 64 \(or contains itself\)$/);

    const list: unknown[] = [1];
    list.push(list);
    expect(checkJsonObject({ list })).to.include('nested deeper than');

    const a: Record<string, unknown> = {};
    const b: Record<string, unknown> = { a };
    a.b = b;
    a.again = b;
    expect(checkJsonObject(a)).to.include('nested deeper than');
  });

  it('says a value whose getter throws cannot be read, rather than letting the getter throw', () => {
    const bad = {
      ok: 1,
      get broken(): number {
        throw new Error('no such thing');
      },
    };
    expect(checkJsonObject(bad, 'm')).to.equal('m could not be read: no such thing');
  });

  it('refuses an own "__proto__" key, which the CBOR decoder would silently rename', () => {
    const parsed = JSON.parse('{"__proto__": {"x": 1}}') as unknown;
    expect(Object.getPrototypeOf(parsed)).to.equal(Object.prototype);
    expect(checkJsonObject(parsed, 'm')).to.equal('m has a "__proto__" key, which cannot be sent');
    expect(checkJsonObject(JSON.parse('{"a": [{"__proto__": 1}]}'), 'm')).to.equal(
      'm.a[0] has a "__proto__" key, which cannot be sent',
    );
    // an object literal's __proto__ sets the prototype instead; with a plain prototype that is fine
    expect(checkJsonObject({ __proto__: Object.prototype, a: 1 })).to.equal(undefined);
  });

  it('refuses strings and keys with unpaired surrogates, which UTF-8 cannot carry', () => {
    expect(checkJsonObject({ s: 'a\ud800b' }, 'm')).to.equal('m.s is not well-formed Unicode (unpaired surrogate)');
    expect(checkJsonObject({ s: ['ok', '\udc00'] }, 'm')).to.equal(
      'm.s[1] is not well-formed Unicode (unpaired surrogate)',
    );
    expect(checkJsonObject({ '\ud83d': 1 }, 'm')).to.equal(
      'm has a key that is not well-formed Unicode (unpaired surrogate)',
    );
    expect(checkJsonObject({ s: '\ud83d\ude00', '\ud83d\ude00': '\u{10ffff}' })).to.equal(undefined);
  });

  it('fuzz: accepts everything JSON.parse can produce, except own "__proto__" keys', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ unit: 'grapheme' }), fc.jsonValue({ maxDepth: 5, stringUnit: 'grapheme' })),
        (o) => {
          const problem = checkJsonObject(o);
          if (hasKey(o, '__proto__')) expect(problem).to.include('"__proto__" key');
          else expect(problem).to.equal(undefined);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('fuzz: never throws on anything, and what it accepts survives JSON text unchanged', () => {
    const anything = fc.anything({
      maxDepth: 4,
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withNullPrototype: true,
      withObjectString: true,
      withSet: true,
      withSparseArray: true,
      withTypedArray: true,
      withUnicodeString: true,
    });
    fc.assert(
      fc.property(anything, (v) => {
        const problem = checkJsonObject(v, 'v');
        if (problem !== undefined) return void expect(problem).to.match(/^v\b/);
        expect(typeof v === 'object' && v !== null && !Array.isArray(v)).to.equal(true);
        // JSON text writes -0 as 0; everything else must come back identical.
        expect(JSON.parse(JSON.stringify(v))).to.deep.equal(withoutNegativeZero(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('fuzz: any UTF-16 string is accepted exactly when it is well-formed', () => {
    const codeUnits = fc.string({
      unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
      maxLength: 8,
    });
    fc.assert(
      fc.property(codeUnits, (s) => {
        const wellFormed = Buffer.from(s, 'utf8').toString('utf8') === s;
        expect(checkJsonObject({ s }) === undefined, JSON.stringify(s)).to.equal(wellFormed);
      }),
      { numRuns: 2000 },
    );
  });
});
