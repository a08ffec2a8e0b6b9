/**
 * The signaling server's options, assembled from their areas (options-*.ts, each with its defaults and
 * checks), and {@link resolveOptions}. The command line (cli-flags.ts turns flags and ROOMMESH_* variables
 * into options) and `createSignalingServer` both go through it, so a value is checked the same way however
 * it arrives.
 */
import { AUTH_DEFAULTS, AUTH_RANGES, checkAuthOptions, type AuthOptions } from './options-auth.js';
import {
  checkConnectionOptions,
  CONNECTION_DEFAULTS,
  CONNECTION_RANGES,
  type ConnectionOptions,
} from './options-connections.js';
import { checkFleetOptions, FLEET_DEFAULTS, FLEET_RANGES, type FleetOptions } from './options-fleet.js';
import { checkIceOptions, ICE_DEFAULTS, ICE_RANGES, type IceOptions } from './options-ice.js';
import { RATE_LIMIT_DEFAULTS, RATE_LIMIT_RANGES, type RateLimitOptions } from './options-limits.js';
import {
  checkRelayOptions,
  defaultRelayFrameBytes,
  RELAY_DEFAULTS,
  RELAY_RANGES,
  type RelayOptions,
} from './options-relay.js';
import {
  checkServingOptions,
  SERVING_DEFAULTS,
  SERVING_RANGES,
  SILENT_LOGGER,
  type ServerLogger,
  type ServingOptions,
} from './options-serving.js';

/** Options of `createSignalingServer`, by area. Which limits are off at 0 each area says; `--help` marks them. */
export interface SignalingServerOptions
  extends ConnectionOptions, RateLimitOptions, RelayOptions, AuthOptions, IceOptions, FleetOptions, ServingOptions {}

/** Options after defaults are applied and every value is checked. */
export type ResolvedServerOptions = Required<
  Omit<
    SignalingServerOptions,
    'jwtSecret' | 'jwksUrl' | 'jwtIssuer' | 'turnSecret' | 'redisUrl' | 'resumeSecret' | 'logger'
  >
> &
  Pick<SignalingServerOptions, 'jwtSecret' | 'jwksUrl' | 'jwtIssuer' | 'turnSecret' | 'redisUrl' | 'resumeSecret'> & {
    logger: ServerLogger;
  };

/** Defaults of {@link SignalingServerOptions}: every area's, in one object. */
export const DEFAULT_SERVER_OPTIONS = Object.freeze({
  ...CONNECTION_DEFAULTS,
  ...RATE_LIMIT_DEFAULTS,
  ...RELAY_DEFAULTS,
  ...AUTH_DEFAULTS,
  ...ICE_DEFAULTS,
  ...FLEET_DEFAULTS,
  ...SERVING_DEFAULTS,
});

/** Options with no default (absent: off, or made at start). */
const OPTIONS_WITHOUT_DEFAULT = [
  'jwtSecret',
  'jwksUrl',
  'jwtIssuer',
  'turnSecret',
  'redisUrl',
  'resumeSecret',
  'logger',
] as const satisfies ReadonlyArray<keyof SignalingServerOptions>;

/** Every option name: another is a typo (or a flag's name, like `noRelay`), refused rather than ignored. */
const OPTION_NAMES: ReadonlySet<string> = new Set([...Object.keys(DEFAULT_SERVER_OPTIONS), ...OPTIONS_WITHOUT_DEFAULT]);

// The two lists above name every option: an option added without a default fails to compile until listed.
type Unlisted = Exclude<
  keyof SignalingServerOptions,
  keyof typeof DEFAULT_SERVER_OPTIONS | (typeof OPTIONS_WITHOUT_DEFAULT)[number]
>;
const everyOptionListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyOptionListed;

/** The option a command-line negation names (`noRelay`: `relay: false`), if it is one. */
function negationHint(key: string): string {
  if (!/^no[A-Z]/.test(key)) return '';
  const option = key === 'noStatic' ? 'staticDir' : key[2]!.toLowerCase() + key.slice(3);
  const flag = key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return OPTION_NAMES.has(option) ? ` (--${flag} is \`${option}: false\` here)` : '';
}

/** Inclusive ranges of the integer options. */
export const INTEGER_RANGES = Object.freeze({
  ...CONNECTION_RANGES,
  ...RATE_LIMIT_RANGES,
  ...RELAY_RANGES,
  ...AUTH_RANGES,
  ...ICE_RANGES,
  ...FLEET_RANGES,
  ...SERVING_RANGES,
});

/** An option has a value the server cannot use; the server does not start. */
export class ConfigError extends Error {
  /** Always `InvalidOption`. */
  readonly reason = 'InvalidOption';
  /** The option at fault. */
  readonly option: string;

  constructor(option: string, message: string) {
    super(message);
    this.name = 'ConfigError';
    this.option = option;
  }
}

/** How an option is named in error messages: the option key by default; the CLI names its flag. */
export type OptionNamer = (option: keyof SignalingServerOptions) => string;

/**
 * Applies the defaults and checks every value and combination; throws {@link ConfigError} naming the
 * first bad one.
 */
export function resolveOptions(options: SignalingServerOptions, name: OptionNamer = (k) => k): ResolvedServerOptions {
  if (typeof options !== 'object' || options === null) throw new ConfigError('options', 'options must be an object');
  const unknown = Object.keys(options).find((k) => !OPTION_NAMES.has(k));
  if (unknown !== undefined)
    throw new ConfigError(unknown, `unknown option ${JSON.stringify(unknown)}${negationHint(unknown)}`);
  const defined = Object.fromEntries(
    Object.entries(options).filter(([, v]) => v !== undefined),
  ) as SignalingServerOptions;
  const o = { ...DEFAULT_SERVER_OPTIONS, ...defined };
  // Unless set, the relayed frame size follows a smaller event limit (the event around it must fit).
  if (defined.maxRelayFrameBytes === undefined) o.maxRelayFrameBytes = defaultRelayFrameBytes(o.maxPayloadBytes);
  const fail = (key: keyof SignalingServerOptions, message: string): never => {
    throw new ConfigError(key, `${name(key)} ${message}`);
  };

  for (const [key, [min, max]] of Object.entries(INTEGER_RANGES) as Array<
    [keyof typeof INTEGER_RANGES, [number, number]]
  >) {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
      fail(key, `must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  }
  checkConnectionOptions(o, fail);
  checkRelayOptions(o, fail);
  const jwtAlgorithms = checkAuthOptions(o, fail, defined);
  checkIceOptions(o, fail);
  checkFleetOptions(o, fail);
  checkServingOptions(o, fail);

  return { ...o, jwtAlgorithms, logger: options.logger ?? SILENT_LOGGER };
}
