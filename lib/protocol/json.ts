/** JSON values as roommesh carries them: message payloads and participant attributes. */

/** A JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A JSON object: the shape of every message payload and attribute set. */
export type JsonObject = { [key: string]: JsonValue };

/** Deepest nesting accepted in a payload or attribute set; deeper input is refused, not recursed into. */
export const MAX_JSON_DEPTH = 64;

// With the u flag a surrogate range matches only surrogates that are not half of a pair. CBOR text is
// UTF-8, which cannot carry them: they would arrive as U+FFFD.
const UNPAIRED_SURROGATE = /[\uD800-\uDFFF]/u;

/** Whether `s` is well-formed Unicode (no unpaired surrogate), so that it arrives as it was sent. */
export function isWellFormedText(s: string): boolean {
  return !UNPAIRED_SURROGATE.test(s);
}

function isPlainObject(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** What is wrong with a value, and where: the steps (`.key`, `[i]`) down to it, innermost first. */
interface Problem {
  steps: string[];
  what: string;
}

function problem(what: string): Problem {
  return { steps: [], what };
}

// The path to a value is built only for a problem, on the way back up: checking every outgoing message,
// a path string per field was most of what the check allocated.
function check(v: unknown, depth: number): Problem | undefined {
  switch (typeof v) {
    case 'string':
      return UNPAIRED_SURROGATE.test(v) ? problem('is not well-formed Unicode (unpaired surrogate)') : undefined;
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(v) ? undefined : problem('is not a finite number');
    case 'object': {
      if (v === null) return undefined;
      if (depth >= MAX_JSON_DEPTH) return problem(`is nested deeper than ${MAX_JSON_DEPTH} (or contains itself)`);
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const found = check(v[i], depth + 1);
          if (found !== undefined) {
            found.steps.push(`[${i}]`);
            return found;
          }
        }
        return undefined;
      }
      if (!isPlainObject(v)) return problem('is not a plain object');
      for (const key in v) {
        if (!Object.hasOwn(v, key)) continue;
        // cbor-x decodes a "__proto__" key as "__proto_" (its prototype-pollution guard), so it cannot arrive intact.
        if (key === '__proto__') return problem('has a "__proto__" key, which cannot be sent');
        if (UNPAIRED_SURROGATE.test(key))
          return problem('has a key that is not well-formed Unicode (unpaired surrogate)');
        const found = check((v as Record<string, unknown>)[key], depth + 1);
        if (found !== undefined) {
          found.steps.push(`.${key}`);
          return found;
        }
      }
      return undefined;
    }
    default:
      return problem(`is ${v === undefined ? 'undefined' : `a ${typeof v}`}, not JSON`);
  }
}

/**
 * Checks that `v` is a JSON object (a plain object of JSON values, no deeper than {@link MAX_JSON_DEPTH}).
 * Returns undefined when it is, or a sentence saying what is wrong, naming the value `name`.
 */
export function checkJsonObject(v: unknown, name = 'value'): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || !isPlainObject(v))
    return `${name} is not a JSON object`;
  let found: Problem | undefined;
  try {
    found = check(v, 0);
  } catch (err) {
    // A getter (or a proxy) that throws: what the app gave cannot be read, let alone sent.
    return `${name} could not be read: ${err instanceof Error ? err.message : String(err)}`;
  }
  return found === undefined ? undefined : `${name}${found.steps.reverse().join('')} ${found.what}`;
}
