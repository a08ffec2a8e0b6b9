// Injected by scripts/build-browser.mjs into the browser bundle: simple-peer and readable-stream use the
// Node globals `process` and `Buffer`. esbuild rewrites each free use of those names into an import of
// these exports, so the bundle works without the app defining anything and never touches globalThis.
import process from 'process/browser.js';
import { Buffer } from 'buffer';

export { process, Buffer };
