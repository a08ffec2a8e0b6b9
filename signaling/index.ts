/**
 * `roommesh/signaling`: createSignalingServer and its options, for programs that run the server
 * themselves. Checks first that the server's packages (optional peer dependencies of roommesh) are
 * installed, so that an import without them fails naming the `npm install` command; server.ts is
 * therefore loaded dynamically, after the check (a static import would fail at link time, before it).
 */
import { assertPackages, SERVER_PACKAGES } from './deps.js';
import type * as Server from './server.js';

assertPackages('roommesh/signaling', SERVER_PACKAGES);
const server: typeof Server = await import('./server.js');

export { MissingServerPackagesError, SERVER_PACKAGES } from './deps.js';
export type { MintOptions, ServerLogger, SignalingServer, SignalingServerOptions } from './server.js';
/** Thrown for an option that does not parse or does not fit; see server.ts. */
export const ConfigError = server.ConfigError;
/** A bad option's error, as a type. */
export type ConfigError = Server.ConfigError;
/** Every option's default. */
export const DEFAULT_SERVER_OPTIONS = server.DEFAULT_SERVER_OPTIONS;
/** Mints a development JWT; see auth.ts. */
export const mintToken = server.mintToken;
/**
 * Starts a signaling server; see server.ts.
 * @example
 * const server = await createSignalingServer({ port: 8080 });
 * await server.close();
 */
export const createSignalingServer = server.createSignalingServer;
