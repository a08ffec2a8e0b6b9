#!/usr/bin/env node
/** `roommesh-signal`: command-line flags and ROOMMESH_* environment variables to server options, nothing else. */
import { parseArgs } from 'node:util';
import pino from 'pino';
import { DEFAULT_SERVER_OPTIONS, createSignalingServer } from './server.js';

const HELP = `roommesh-signal: the roommesh signaling server

Usage: roommesh-signal [options]

  --host <addr>               address to listen on        env ROOMMESH_HOST               default ${DEFAULT_SERVER_OPTIONS.host}
  --port <n>                  port to listen on (0: any)  env ROOMMESH_PORT               default ${DEFAULT_SERVER_OPTIONS.port}
  --max-payload-bytes <n>     largest event accepted      env ROOMMESH_MAX_PAYLOAD_BYTES  default ${DEFAULT_SERVER_OPTIONS.maxPayloadBytes}
  --log-level <level>         fatal|error|warn|info|debug|trace|silent
                                                          env ROOMMESH_LOG_LEVEL          default info
  --no-static                 do not serve the demo page  env ROOMMESH_NO_STATIC=1
  -h, --help                  show this help
`;

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

function fail(message: string): never {
  process.stderr.write(`roommesh-signal: ${message}\nRun roommesh-signal --help for the options.\n`);
  process.exit(2);
}

function integer(name: string, raw: string, min: number, max: number): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) fail(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'max-payload-bytes': { type: 'string' },
      'log-level': { type: 'string' },
      'no-static': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
}
const { values } = parsed;
if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}
const env = process.env;
const host = values.host ?? env.ROOMMESH_HOST ?? DEFAULT_SERVER_OPTIONS.host;
const port = integer('port', values.port ?? env.ROOMMESH_PORT ?? String(DEFAULT_SERVER_OPTIONS.port), 0, 65535);
const maxPayloadBytes = integer('max-payload-bytes', values['max-payload-bytes'] ?? env.ROOMMESH_MAX_PAYLOAD_BYTES ?? String(DEFAULT_SERVER_OPTIONS.maxPayloadBytes), 1024, 16 * 1024 * 1024);
const logLevel = values['log-level'] ?? env.ROOMMESH_LOG_LEVEL ?? 'info';
if (!LOG_LEVELS.has(logLevel)) fail(`log-level must be one of ${[...LOG_LEVELS].join(', ')}, got "${logLevel}"`);
const noStatic = values['no-static'] === true || env.ROOMMESH_NO_STATIC === '1';

const logger = pino({ level: logLevel, base: { service: 'roommesh-signal' } });
try {
  const server = await createSignalingServer({ host, port, maxPayloadBytes, logger, ...(noStatic ? { staticDir: false as const } : {}) });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    void server.close().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
} catch (err) {
  fail(`cannot start: ${err instanceof Error ? err.message : String(err)}`);
}
