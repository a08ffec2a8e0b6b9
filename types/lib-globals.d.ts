// Globals lib/ may find at run time but not in every browser: declared as possibly absent, so a use must
// check first (`typeof setImmediate === 'function'`). Only lib/tsconfig.json includes this file: Node
// types declare the same names as always there.

/** Node's and some runtimes' macrotask scheduler; absent in browsers. */
declare const setImmediate: ((callback: () => void) => unknown) | undefined;
