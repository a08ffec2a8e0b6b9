/**
 * The command line's parsing: flag values and ROOMMESH_* variables (the table in cli-flag-table.ts) into
 * server options and a log level. Values are checked by options.ts, naming the flag.
 */
import { FLAGS, LOG_LEVELS } from './cli-flag-table.js';
import { ConfigError, resolveOptions, type OptionNamer, type SignalingServerOptions } from './options.js';

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
