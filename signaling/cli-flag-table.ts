/**
 * The command line's flag table: each `--flag` of `roommesh-signal`, the option it sets, how it parses and
 * its line of `--help`. Its environment variable is `ROOMMESH_` and the flag in capitals, `-` as `_`.
 */
import type { SignalingServerOptions } from './options.js';

/** How one option is written on the command line and in the environment. */
export interface Flag {
  /** The option it sets; `static` sets `staticDir: false`, `logLevel` is the CLI's own. */
  key: keyof SignalingServerOptions | 'logLevel' | 'static';
  /** The flag without its `--`. */
  flag: string;
  /** The environment variable that sets it when the flag is absent. */
  env: string;
  /** How its value parses: a `negation` (`--no-…`) sets its option to false. */
  kind: 'string' | 'integer' | 'list' | 'boolean' | 'negation';
  /** What --help shows as its value (`<n>`, `none|jwt`); empty for a switch. */
  value: string;
  /** Its line of --help. */
  help: string;
}

/** A row of the table below: a {@link Flag} but its environment variable, which the flag names. */
type Row = [key: Flag['key'], flag: string, kind: Flag['kind'], value: string, help: string];

// [option, --flag, kind, value shown in --help, help], in the order --help lists them.
const ROWS: readonly Row[] = [
  ['host', 'host', 'string', '<addr>', 'address to listen on'],
  ['port', 'port', 'integer', '<n>', 'port (0: any free port)'],
  ['allowedOrigins', 'allowed-origins', 'list', '<a,b>', 'origins whose pages may connect (empty: any)'],
  ['trustProxy', 'trust-proxy', 'boolean', '', 'client IP from the last X-Forwarded-For entry'],
  ['maxPayloadBytes', 'max-payload-bytes', 'integer', '<n>', 'largest event accepted'],
  ['maxConnections', 'max-connections', 'integer', '<n>', 'connections this process accepts (0: no limit)'],
  ['maxConnectionsPerIp', 'max-connections-per-ip', 'integer', '<n>', 'connections from one IP address (0: no limit)'],
  [
    'maxUnreadOutputBytes',
    'max-unread-output-bytes',
    'integer',
    '<n>',
    'drop a client holding more unread output (0: no limit)',
  ],
  [
    'maxParticipantsPerRoom',
    'max-participants-per-room',
    'integer',
    '<n>',
    'participants in one room, fleet-wide (0: no limit)',
  ],
  ['signalsPerSecond', 'signals-per-second', 'integer', '<n>', 'signals per second per connection (0: no limit)'],
  ['signalBurst', 'signal-burst', 'integer', '<n>', 'signals a connection may send at once'],
  [
    'togglesPerSecond',
    'toggles-per-second',
    'integer',
    '<n>',
    'enable/disable requests per second per connection (0: no limit)',
  ],
  ['toggleBurst', 'toggle-burst', 'integer', '<n>', 'enable/disable requests a connection may make at once'],
  [
    'relay',
    'no-relay',
    'negation',
    '',
    'do not relay encrypted frames for pairs that cannot connect directly (relaying is on by default)',
  ],
  [
    'relayBytesPerSecond',
    'relay-bytes-per-second',
    'integer',
    '<n>',
    'relayed bytes per second per connection (0: no limit)',
  ],
  ['relayBurstBytes', 'relay-burst-bytes', 'integer', '<n>', 'relayed bytes a connection may send at once'],
  [
    'relayBudgetBytesPerSecond',
    'relay-budget-bytes-per-second',
    'integer',
    '<n>',
    'relayed bytes per second for the whole process (0: no budget; else at least the largest frame + 512)',
  ],
  ['maxRelayFrameBytes', 'max-relay-frame-bytes', 'integer', '<n>', 'largest relayed frame'],
  ['joinsPerSecondPerIp', 'joins-per-second-per-ip', 'integer', '<n>', 'joins per second per IP address (0: no limit)'],
  ['joinBurstPerIp', 'join-burst-per-ip', 'integer', '<n>', 'joins an IP address may make at once'],
  ['joinTimeoutMs', 'join-timeout-ms', 'integer', '<ms>', 'close connections that do not join within this'],
  ['auth', 'auth', 'string', 'none|jwt', 'require a JWT on join'],
  ['jwtSecret', 'jwt-secret', 'string', '<s>', 'HS256 secret, ≥ 32 bytes (prefer the env var)'],
  ['jwksUrl', 'jwks-url', 'string', '<url>', 'JSON Web Key Set URL'],
  ['jwtAlgorithms', 'jwt-algorithms', 'list', '<a,b>', 'accepted algorithms (HS256 | RS256,ES256,EdDSA)'],
  ['jwtIssuer', 'jwt-issuer', 'string', '<iss>', 'required issuer (unchecked when unset)'],
  ['jwtAudience', 'jwt-audience', 'string', '<aud>', 'required audience'],
  ['jwtClockToleranceMs', 'jwt-clock-tolerance-ms', 'integer', '<ms>', 'clock skew allowed on exp/nbf'],
  ['stunUrls', 'stun-urls', 'list', '<a,b>', 'STUN URLs handed to clients'],
  ['turnUrls', 'turn-urls', 'list', '<a,b>', 'TURN URLs handed to clients'],
  ['turnSecret', 'turn-secret', 'string', '<s>', 'coturn static-auth-secret (prefer the env var)'],
  ['turnCredentialTtlMs', 'turn-credential-ttl-ms', 'integer', '<ms>', 'lifetime of TURN credentials'],
  ['adapter', 'adapter', 'string', 'memory|redis', 'redis: several processes as one'],
  ['redisUrl', 'redis-url', 'string', '<url>', 'redis://host:6379 with --adapter redis'],
  ['redisKeyPrefix', 'redis-key-prefix', 'string', '<p>', 'prefix of every Redis key'],
  ['redisStreamMaxLen', 'redis-stream-max-len', 'integer', '<n>', 'about how many entries the fleet stream keeps'],
  ['fleetHeartbeatMs', 'fleet-heartbeat-ms', 'integer', '<ms>', 'how often a process tells Redis it lives'],
  ['fleetTimeoutMs', 'fleet-timeout-ms', 'integer', '<ms>', 'silence after which a process is dead'],
  ['resumeSecret', 'resume-secret', 'string', '<s>', 'key of resume tokens, ≥ 32 bytes (prefer the env var)'],
  ['resumeGraceMs', 'resume-grace-ms', 'integer', '<ms>', 'how long a dropped participant may resume'],
  ['resumeTokenTtlMs', 'resume-token-ttl-ms', 'integer', '<ms>', 'lifetime of resume tokens'],
  ['drainDelayMs', 'drain-delay-ms', 'integer', '<ms>', 'on SIGTERM: not ready this long, then close'],
  ['logLevel', 'log-level', 'string', '<level>', 'fatal|error|warn|info|debug|trace|silent'],
  ['metrics', 'no-metrics', 'negation', '', 'do not serve /metrics'],
  ['static', 'no-static', 'negation', '', 'do not serve the demo page at / nor the browser bundle at /roommesh.js'],
];

/** Every flag of `roommesh-signal`, in the order --help lists them. */
export const FLAGS: readonly Flag[] = Object.freeze(
  ROWS.map(([key, flag, kind, value, help]) => ({
    key,
    flag,
    env: `ROOMMESH_${flag.toUpperCase().replaceAll('-', '_')}`,
    kind,
    value,
    help,
  })),
);

/** pino levels the CLI accepts. */
export const LOG_LEVELS = Object.freeze(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
