/**
 * The command line's flag table: each `--flag` and `ROOMMESH_*` variable, the option it sets, how it
 * parses, and the `--help` text made from it. Values are checked by options.ts, naming the flag.
 */
import {
  ConfigError,
  DEFAULT_SERVER_OPTIONS,
  resolveOptions,
  type OptionNamer,
  type SignalingServerOptions,
} from './options.js';

/** How one option is written on the command line and in the environment. */
interface Flag {
  /** The option it sets; `static` sets `staticDir: false`, `logLevel` is the CLI's own. */
  key: keyof SignalingServerOptions | 'logLevel' | 'static';
  flag: string;
  env: string;
  kind: 'string' | 'integer' | 'list' | 'boolean' | 'negation';
  value: string;
  help: string;
}

/** Every flag of `roommesh-signal`, in the order --help lists them. */
export const FLAGS: readonly Flag[] = Object.freeze([
  { key: 'host', flag: 'host', env: 'ROOMMESH_HOST', kind: 'string', value: '<addr>', help: 'address to listen on' },
  { key: 'port', flag: 'port', env: 'ROOMMESH_PORT', kind: 'integer', value: '<n>', help: 'port (0: any free port)' },
  {
    key: 'allowedOrigins',
    flag: 'allowed-origins',
    env: 'ROOMMESH_ALLOWED_ORIGINS',
    kind: 'list',
    value: '<a,b>',
    help: 'origins whose pages may connect (empty: any)',
  },
  {
    key: 'trustProxy',
    flag: 'trust-proxy',
    env: 'ROOMMESH_TRUST_PROXY',
    kind: 'boolean',
    value: '',
    help: 'client IP from the last X-Forwarded-For entry',
  },
  {
    key: 'maxPayloadBytes',
    flag: 'max-payload-bytes',
    env: 'ROOMMESH_MAX_PAYLOAD_BYTES',
    kind: 'integer',
    value: '<n>',
    help: 'largest event accepted',
  },
  {
    key: 'maxConnections',
    flag: 'max-connections',
    env: 'ROOMMESH_MAX_CONNECTIONS',
    kind: 'integer',
    value: '<n>',
    help: 'connections this process accepts (0: no limit)',
  },
  {
    key: 'maxConnectionsPerIp',
    flag: 'max-connections-per-ip',
    env: 'ROOMMESH_MAX_CONNECTIONS_PER_IP',
    kind: 'integer',
    value: '<n>',
    help: 'connections from one IP address (0: no limit)',
  },
  {
    key: 'maxUnreadOutputBytes',
    flag: 'max-unread-output-bytes',
    env: 'ROOMMESH_MAX_UNREAD_OUTPUT_BYTES',
    kind: 'integer',
    value: '<n>',
    help: 'drop a client holding more unread output (0: no limit)',
  },
  {
    key: 'maxParticipantsPerRoom',
    flag: 'max-participants-per-room',
    env: 'ROOMMESH_MAX_PARTICIPANTS_PER_ROOM',
    kind: 'integer',
    value: '<n>',
    help: 'participants in one room, fleet-wide (0: no limit)',
  },
  {
    key: 'signalsPerSecond',
    flag: 'signals-per-second',
    env: 'ROOMMESH_SIGNALS_PER_SECOND',
    kind: 'integer',
    value: '<n>',
    help: 'signals per second per connection (0: no limit)',
  },
  {
    key: 'signalBurst',
    flag: 'signal-burst',
    env: 'ROOMMESH_SIGNAL_BURST',
    kind: 'integer',
    value: '<n>',
    help: 'signals a connection may send at once',
  },
  {
    key: 'togglesPerSecond',
    flag: 'toggles-per-second',
    env: 'ROOMMESH_TOGGLES_PER_SECOND',
    kind: 'integer',
    value: '<n>',
    help: 'enable/disable requests per second per connection (0: no limit)',
  },
  {
    key: 'toggleBurst',
    flag: 'toggle-burst',
    env: 'ROOMMESH_TOGGLE_BURST',
    kind: 'integer',
    value: '<n>',
    help: 'enable/disable requests a connection may make at once',
  },
  {
    key: 'relay',
    flag: 'no-relay',
    env: 'ROOMMESH_NO_RELAY',
    kind: 'negation',
    value: '',
    help: 'do not relay encrypted frames for pairs that cannot connect directly (relaying is on by default)',
  },
  {
    key: 'relayBytesPerSecond',
    flag: 'relay-bytes-per-second',
    env: 'ROOMMESH_RELAY_BYTES_PER_SECOND',
    kind: 'integer',
    value: '<n>',
    help: 'relayed bytes per second per connection (0: no limit)',
  },
  {
    key: 'relayBurstBytes',
    flag: 'relay-burst-bytes',
    env: 'ROOMMESH_RELAY_BURST_BYTES',
    kind: 'integer',
    value: '<n>',
    help: 'relayed bytes a connection may send at once',
  },
  {
    key: 'relayBudgetBytesPerSecond',
    flag: 'relay-budget-bytes-per-second',
    env: 'ROOMMESH_RELAY_BUDGET_BYTES_PER_SECOND',
    kind: 'integer',
    value: '<n>',
    help: 'relayed bytes per second for the whole process (0: no budget)',
  },
  {
    key: 'maxRelayFrameBytes',
    flag: 'max-relay-frame-bytes',
    env: 'ROOMMESH_MAX_RELAY_FRAME_BYTES',
    kind: 'integer',
    value: '<n>',
    help: 'largest relayed frame',
  },
  {
    key: 'joinsPerSecondPerIp',
    flag: 'joins-per-second-per-ip',
    env: 'ROOMMESH_JOINS_PER_SECOND_PER_IP',
    kind: 'integer',
    value: '<n>',
    help: 'joins per second per IP address (0: no limit)',
  },
  {
    key: 'joinBurstPerIp',
    flag: 'join-burst-per-ip',
    env: 'ROOMMESH_JOIN_BURST_PER_IP',
    kind: 'integer',
    value: '<n>',
    help: 'joins an IP address may make at once',
  },
  {
    key: 'joinTimeoutMs',
    flag: 'join-timeout-ms',
    env: 'ROOMMESH_JOIN_TIMEOUT_MS',
    kind: 'integer',
    value: '<ms>',
    help: 'close connections that do not join within this',
  },
  { key: 'auth', flag: 'auth', env: 'ROOMMESH_AUTH', kind: 'string', value: 'none|jwt', help: 'require a JWT on join' },
  {
    key: 'jwtSecret',
    flag: 'jwt-secret',
    env: 'ROOMMESH_JWT_SECRET',
    kind: 'string',
    value: '<s>',
    help: 'HS256 secret, ≥ 32 bytes (prefer the env var)',
  },
  {
    key: 'jwksUrl',
    flag: 'jwks-url',
    env: 'ROOMMESH_JWKS_URL',
    kind: 'string',
    value: '<url>',
    help: 'JSON Web Key Set URL',
  },
  {
    key: 'jwtAlgorithms',
    flag: 'jwt-algorithms',
    env: 'ROOMMESH_JWT_ALGORITHMS',
    kind: 'list',
    value: '<a,b>',
    help: 'accepted algorithms (HS256 | RS256,ES256,EdDSA)',
  },
  {
    key: 'jwtIssuer',
    flag: 'jwt-issuer',
    env: 'ROOMMESH_JWT_ISSUER',
    kind: 'string',
    value: '<iss>',
    help: 'required issuer (unchecked when unset)',
  },
  {
    key: 'jwtAudience',
    flag: 'jwt-audience',
    env: 'ROOMMESH_JWT_AUDIENCE',
    kind: 'string',
    value: '<aud>',
    help: 'required audience',
  },
  {
    key: 'jwtClockToleranceMs',
    flag: 'jwt-clock-tolerance-ms',
    env: 'ROOMMESH_JWT_CLOCK_TOLERANCE_MS',
    kind: 'integer',
    value: '<ms>',
    help: 'clock skew allowed on exp/nbf',
  },
  {
    key: 'stunUrls',
    flag: 'stun-urls',
    env: 'ROOMMESH_STUN_URLS',
    kind: 'list',
    value: '<a,b>',
    help: 'STUN URLs handed to clients',
  },
  {
    key: 'turnUrls',
    flag: 'turn-urls',
    env: 'ROOMMESH_TURN_URLS',
    kind: 'list',
    value: '<a,b>',
    help: 'TURN URLs handed to clients',
  },
  {
    key: 'turnSecret',
    flag: 'turn-secret',
    env: 'ROOMMESH_TURN_SECRET',
    kind: 'string',
    value: '<s>',
    help: 'coturn static-auth-secret (prefer the env var)',
  },
  {
    key: 'turnCredentialTtlMs',
    flag: 'turn-credential-ttl-ms',
    env: 'ROOMMESH_TURN_CREDENTIAL_TTL_MS',
    kind: 'integer',
    value: '<ms>',
    help: 'lifetime of TURN credentials',
  },
  {
    key: 'adapter',
    flag: 'adapter',
    env: 'ROOMMESH_ADAPTER',
    kind: 'string',
    value: 'memory|redis',
    help: 'redis: several processes as one',
  },
  {
    key: 'redisUrl',
    flag: 'redis-url',
    env: 'ROOMMESH_REDIS_URL',
    kind: 'string',
    value: '<url>',
    help: 'redis://host:6379 with --adapter redis',
  },
  {
    key: 'redisKeyPrefix',
    flag: 'redis-key-prefix',
    env: 'ROOMMESH_REDIS_KEY_PREFIX',
    kind: 'string',
    value: '<p>',
    help: 'prefix of every Redis key',
  },
  {
    key: 'fleetHeartbeatMs',
    flag: 'fleet-heartbeat-ms',
    env: 'ROOMMESH_FLEET_HEARTBEAT_MS',
    kind: 'integer',
    value: '<ms>',
    help: 'how often a process tells Redis it lives',
  },
  {
    key: 'fleetTimeoutMs',
    flag: 'fleet-timeout-ms',
    env: 'ROOMMESH_FLEET_TIMEOUT_MS',
    kind: 'integer',
    value: '<ms>',
    help: 'silence after which a process is dead',
  },
  {
    key: 'resumeSecret',
    flag: 'resume-secret',
    env: 'ROOMMESH_RESUME_SECRET',
    kind: 'string',
    value: '<s>',
    help: 'key of resume tokens, ≥ 32 bytes (prefer the env var)',
  },
  {
    key: 'resumeGraceMs',
    flag: 'resume-grace-ms',
    env: 'ROOMMESH_RESUME_GRACE_MS',
    kind: 'integer',
    value: '<ms>',
    help: 'how long a dropped participant may resume',
  },
  {
    key: 'resumeTokenTtlMs',
    flag: 'resume-token-ttl-ms',
    env: 'ROOMMESH_RESUME_TOKEN_TTL_MS',
    kind: 'integer',
    value: '<ms>',
    help: 'lifetime of resume tokens',
  },
  {
    key: 'drainDelayMs',
    flag: 'drain-delay-ms',
    env: 'ROOMMESH_DRAIN_DELAY_MS',
    kind: 'integer',
    value: '<ms>',
    help: 'on SIGTERM: not ready this long, then close',
  },
  {
    key: 'logLevel',
    flag: 'log-level',
    env: 'ROOMMESH_LOG_LEVEL',
    kind: 'string',
    value: '<level>',
    help: 'fatal|error|warn|info|debug|trace|silent',
  },
  {
    key: 'metrics',
    flag: 'no-metrics',
    env: 'ROOMMESH_NO_METRICS',
    kind: 'negation',
    value: '',
    help: 'do not serve /metrics',
  },
  {
    key: 'static',
    flag: 'no-static',
    env: 'ROOMMESH_NO_STATIC',
    kind: 'negation',
    value: '',
    help: 'do not serve the demo page at /',
  },
] satisfies Flag[]);

/** pino levels the CLI accepts. */
export const LOG_LEVELS = Object.freeze(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/** What the command line asks for: server options plus the CLI's own log level. */
export interface CliConfig {
  options: SignalingServerOptions;
  logLevel: string;
}

/** The name of an option as an operator writes it: `--flag (ENV_VAR)`. */
export const flagName: OptionNamer = (key) => {
  const f = FLAGS.find((x) => x.key === key);
  return f === undefined ? key : `--${f.flag} (${f.env})`;
};

/**
 * Turns flag values (from node:util parseArgs) and the environment into options; a flag wins over its
 * variable. Throws {@link ConfigError} for a value that does not parse or does not fit.
 */
export function parseCliConfig(
  values: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): CliConfig {
  const options: Record<string, unknown> = {};
  let logLevel = 'info';
  for (const f of FLAGS) {
    const fromFlag = values[f.flag];
    const raw = fromFlag ?? env[f.env];
    if (raw === undefined) continue;
    const where = fromFlag !== undefined ? `--${f.flag}` : f.env;
    let value: unknown;
    if (f.kind === 'boolean' || f.kind === 'negation') {
      if (typeof raw === 'boolean') value = raw;
      else if (/^(1|true|yes)$/i.test(raw)) value = true;
      else if (/^(0|false|no|)$/i.test(raw)) value = false;
      else throw new ConfigError(f.key, `${where} must be 1/true or 0/false, got "${raw}"`);
      if (f.kind === 'negation') value = !value;
    } else if (typeof raw !== 'string') {
      throw new ConfigError(f.key, `${where} needs a value`);
    } else if (f.kind === 'integer') {
      if (!/^\d{1,16}$/.test(raw.trim())) throw new ConfigError(f.key, `${where} must be a whole number, got "${raw}"`);
      value = Number(raw.trim());
    } else if (f.kind === 'list') {
      value = raw
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0);
    } else {
      value = raw;
    }
    if (f.key === 'logLevel') {
      if (!LOG_LEVELS.includes(String(value)))
        throw new ConfigError('logLevel', `${where} must be one of ${LOG_LEVELS.join(', ')}, got "${String(value)}"`);
      logLevel = String(value);
    } else if (f.key === 'static') {
      if (value === false) options.staticDir = false;
    } else {
      options[f.key] = value;
    }
  }
  resolveOptions(options, flagName); // fail at start, naming the flag
  return { options: options, logLevel };
}

/** The text of `roommesh-signal --help`. */
export function helpText(): string {
  const defaults = DEFAULT_SERVER_OPTIONS as Record<string, unknown>;
  const rows = FLAGS.map((f) => {
    const d = f.key === 'logLevel' ? 'info' : f.kind === 'negation' ? '' : defaults[f.key];
    const shown = d === undefined || d === '' ? '' : Array.isArray(d) ? (d.length > 0 ? d.join(',') : '') : String(d);
    const left = `  --${f.flag}${f.value ? ` ${f.value}` : ''}`;
    return `${left.padEnd(40)}${f.help}\n${''.padEnd(40)}env ${f.env}${shown ? `, default ${shown}` : ''}\n`;
  });
  return `roommesh-signal: the roommesh signaling server

Usage: roommesh-signal [options]
       roommesh-signal token --room <room> --name <name> --secret <s> [--room <room2>] [--pid <id>]
                             [--ttl-ms <ms>] [--audience <aud>] [--issuer <iss>]   prints a dev JWT
                             (--all-rooms instead of --room: a token for every room)

${rows.join('')}  -h, --help                            show this help

Invalid values stop the server at start. SIGTERM drains (GET /readyz answers 503, then the server closes);
a second SIGTERM or SIGINT closes at once.
`;
}
