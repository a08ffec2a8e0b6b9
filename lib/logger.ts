/** The logger roommesh writes to: pino, console or anything with these four methods fits. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};

/**
 * The default logger: quiet at debug and info, warnings and errors to the console.
 * It is the one place the library touches `console`.
 */
export const defaultLogger: Logger = {
  debug: noop,
  info: noop,
  warn: (obj, msg) => console.warn('[roommesh]', msg ?? '', obj),
  error: (obj, msg) => console.error('[roommesh]', msg ?? '', obj),
};

/** A logger that prints nothing. */
export const silentLogger: Logger = { debug: noop, info: noop, warn: noop, error: noop };

/** A logger that adds `context` to every line. @internal */
export function withContext(logger: Logger, context: object): Logger {
  return {
    debug: (obj, msg) => logger.debug({ ...context, ...obj }, msg),
    info: (obj, msg) => logger.info({ ...context, ...obj }, msg),
    warn: (obj, msg) => logger.warn({ ...context, ...obj }, msg),
    error: (obj, msg) => logger.error({ ...context, ...obj }, msg),
  };
}
