#!/usr/bin/env node
/**
 * `roommesh-signal`: command-line flags and ROOMMESH_* environment variables to server options, the
 * `token` command, and the process's signals. The flag table is in cli-flag-table.ts, its parsing in
 * cli-flags.ts, --help in cli-help.ts, the options themselves in options.ts.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { FLAGS } from './cli-flag-table.js';
import { parseCliConfig } from './cli-flags.js';
import { helpText } from './cli-help.js';
import { CLI_PACKAGES, missingPackages } from './deps.js';
import { createLogger } from './cli-logger.js';
import { ConfigError } from './options.js';

function fail(message: string): never {
  process.stderr.write(`roommesh-signal: ${message}\nRun roommesh-signal --help for the options.\n`);
  process.exit(2);
}

/**
 * Exits 1 naming the `npm install` command when any of `names` is missing: the server's packages are
 * optional peer dependencies of roommesh, absent from an app that installed it for the browser.
 */
function requirePackages(names: readonly string[]): void {
  const missing = missingPackages(names);
  if (missing.length === 0) return;
  process.stderr.write(
    `roommesh-signal: needs ${missing.join(', ')}, not installed (optional peer dependencies of roommesh).\n` +
      `Run: npm install ${missing.join(' ')}\n`,
  );
  process.exit(1);
}

function parse(
  args: string[],
  options: NonNullable<ParseArgsConfig['options']>,
): Record<string, string | boolean | string[] | undefined> {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values as Record<
      string,
      string | boolean | string[] | undefined
    >;
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
}

async function token(args: string[]): Promise<void> {
  const v = parse(args, {
    room: { type: 'string', multiple: true },
    'all-rooms': { type: 'boolean' },
    name: { type: 'string' },
    secret: { type: 'string' },
    pid: { type: 'string' },
    'ttl-ms': { type: 'string' },
    audience: { type: 'string' },
    issuer: { type: 'string' },
  });
  const rooms = (v.room as string[] | undefined) ?? [];
  const secret = (v.secret as string | undefined) ?? process.env.ROOMMESH_JWT_SECRET;
  const allRooms = v['all-rooms'] === true;
  // "*" is a room name like any other here, never a wildcard: see the comment at the top of auth.ts.
  if (rooms.includes('*'))
    fail("token: --room '*' is not a wildcard; use --all-rooms for a token that joins every room");
  if (allRooms && rooms.length > 0) fail('token: give --room or --all-rooms, not both');
  if (rooms.length === 0 && !allRooms) fail('token: give at least one --room, or --all-rooms');
  if (typeof v.name !== 'string' || v.name.length === 0) fail('token: give --name');
  if (secret === undefined || Buffer.byteLength(secret) < 32)
    fail('token: give --secret (or ROOMMESH_JWT_SECRET) of at least 32 bytes');
  const ttl = v['ttl-ms'] as string | undefined;
  if (ttl !== undefined && (!/^\d{1,12}$/.test(ttl) || Number(ttl) === 0))
    fail(`token: --ttl-ms must be a whole number above 0, got "${ttl}"`);
  requirePackages(['jose']);
  const { mintToken } = await import('./auth.js');
  const jwt = await mintToken({
    secret,
    rooms,
    allRooms,
    name: v.name,
    ...(typeof v.pid === 'string' ? { pid: v.pid } : {}),
    ...(ttl !== undefined ? { ttlMs: Number(ttl) } : {}),
    ...(typeof v.audience === 'string' ? { audience: v.audience } : {}),
    ...(typeof v.issuer === 'string' ? { issuer: v.issuer } : {}),
  }).catch((err: unknown) => fail(`token: ${err instanceof RangeError ? err.message : String(err)}`));
  process.stdout.write(`${jwt}\n`);
}

async function serve(args: string[]): Promise<void> {
  const flagOptions: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const f of FLAGS)
    flagOptions[f.flag] = { type: f.kind === 'boolean' || f.kind === 'negation' ? 'boolean' : 'string' };
  const values = parse(args, flagOptions);
  if (values.help === true) {
    process.stdout.write(helpText());
    process.exit(0);
  }
  let config;
  try {
    config = parseCliConfig(values as Record<string, string | boolean | undefined>, process.env);
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }
  // Loaded only now, so that --help and a bad flag answer without loading the whole server.
  requirePackages(CLI_PACKAGES);
  const { createSignalingServer } = await import('./server.js');
  const { logger, pretty } = await createLogger(config.logLevel, process.stdout.isTTY === true);
  let server;
  try {
    server = await createSignalingServer({ ...config.options, logger });
  } catch (err) {
    // Not a bad flag (a port in use, an address this machine does not have): no pointer to --help, exit 1.
    process.stderr.write(`roommesh-signal: cannot start: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
  // For a person at a terminal (npm start): where the demo is. Not in JSON logs, which machines read.
  if (pretty && config.options.staticDir !== false) logger.info({}, `open ${server.url}/ in two tabs`);
  let signals = 0;
  let closing = false;
  const stop = (signal: NodeJS.Signals): void => {
    signals++;
    // A signal after the close began: whatever it waits for, the operator will not wait longer.
    if (closing) {
      logger.warn({ signal }, 'stopping now, without finishing the close');
      process.exit(1);
    }
    // First SIGTERM drains (readyz goes 503 so the load balancer stops sending, then close); SIGINT or a
    // second signal closes at once.
    const drain = signal === 'SIGTERM' && signals === 1;
    closing = !drain;
    const done = drain ? server.drain() : server.close();
    logger.info({ signal }, drain ? 'draining' : 'stopping');
    void done.then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

const argv = process.argv.slice(2);
if (argv[0] === 'token') await token(argv.slice(1));
else await serve(argv);
