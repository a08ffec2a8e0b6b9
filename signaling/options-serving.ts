/** The server's options for what else it serves, how it stops and where it logs, with their defaults and checks. */
import { fileURLToPath } from 'node:url';

/** The logger the server writes to: pino fits, and so does anything with these methods. */
export interface ServerLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Metrics, the static folder, draining and logging. */
export interface ServingOptions {
  /**
   * On `drain()` (SIGTERM), how long the server answers /readyz with 503 while still serving before it closes.
   * @default 5000
   */
  drainDelayMs?: number;
  /**
   * Serve Prometheus metrics at `GET /metrics`.
   * @default true
   */
  metrics?: boolean;
  /**
   * Folder served over HTTP at `/` (the demo page); false serves nothing.
   * @default the package's demo/ folder
   */
  staticDir?: string | false;
  /**
   * Where the server logs. It never logs SDP, ICE candidates or tokens.
   * @default a logger that prints nothing
   */
  logger?: ServerLogger;
}

const noop = (): void => {};

/** A logger that prints nothing. */
export const SILENT_LOGGER: ServerLogger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

/** Defaults of {@link ServingOptions} but `logger` ({@link SILENT_LOGGER}, applied last). */
export const SERVING_DEFAULTS = Object.freeze({
  drainDelayMs: 5000,
  metrics: true,
  // From dist/signaling/ to the package's demo/ folder; a path, not a URL's pathname, which keeps a space
  // as %20 (the demo answered 404 under a path with a space) and gives /C:/ on Windows.
  staticDir: fileURLToPath(new URL('../../demo/', import.meta.url)),
});

/** Inclusive ranges of the integer {@link ServingOptions}. */
export const SERVING_RANGES = Object.freeze({
  drainDelayMs: [0, 600_000],
} satisfies Partial<Record<keyof ServingOptions, [number, number]>>);

/** Checks the metrics flag and the static folder; calls `fail` for the first bad one. */
export function checkServingOptions(
  o: ServingOptions & Required<Pick<ServingOptions, keyof typeof SERVING_DEFAULTS>>,
  fail: (key: keyof ServingOptions, message: string) => never,
): void {
  if (typeof o.metrics !== 'boolean') fail('metrics', 'must be true or false');
  if (o.staticDir !== false && (typeof o.staticDir !== 'string' || o.staticDir.length === 0))
    fail('staticDir', 'must be a folder or false');
}
