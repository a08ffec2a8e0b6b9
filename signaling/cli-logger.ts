/**
 * The logger of `roommesh-signal`: pino, writing JSON lines, or readable lines through pino-pretty when
 * stdout is a terminal (a person ran `npm start`). pino-pretty is an optional peer dependency: without it
 * the logs stay JSON lines.
 */
import type { Logger } from 'pino';

/** Fields the server never logs; redaction is a second line of defence for fields added later. */
const REDACT = ['token', 'sdp', 'candidate', '*.token', '*.sdp', '*.candidate'];

/**
 * Creates the CLI's logger at `level`; readable when `tty` and pino-pretty is installed. `pretty` says
 * which it is.
 */
export async function createLogger(level: string, tty: boolean): Promise<{ logger: Logger; pretty: boolean }> {
  const { pino } = await import('pino');
  const options = {
    level,
    base: { service: 'roommesh-signal' },
    redact: { paths: REDACT, censor: '[redacted]' },
  };
  if (tty) {
    const prettyFactory = await import('pino-pretty').then(
      (m) => m.default,
      () => undefined, // not installed: JSON lines, as without a terminal
    );
    if (prettyFactory !== undefined) {
      // Synchronous, in this thread: log lines are few, and a worker thread would outlive a quick exit.
      const stream = prettyFactory({ sync: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,service' });
      return { logger: pino(options, stream), pretty: true };
    }
  }
  return { logger: pino(options), pretty: false };
}
