/** The text of `roommesh-signal --help`, made from the flag table and the options' defaults. */
import { FLAGS } from './cli-flag-table.js';
import { DEFAULT_SERVER_OPTIONS, INTEGER_RANGES } from './options.js';

/** The text of `roommesh-signal --help`. */
export function helpText(): string {
  const defaults = DEFAULT_SERVER_OPTIONS as Record<string, unknown>;
  const rows = FLAGS.map((f) => {
    const d = f.key === 'logLevel' ? 'info' : f.kind === 'negation' ? '' : defaults[f.key];
    const shown = d === undefined || d === '' ? '' : Array.isArray(d) ? (d.length > 0 ? d.join(',') : '') : String(d);
    const range = (INTEGER_RANGES as Record<string, readonly [number, number] | undefined>)[f.key];
    const left = `  --${f.flag}${f.value ? ` ${f.value}` : ''}`;
    const facts = [`env ${f.env}`, shown ? `default ${shown}` : '', range ? `range ${range[0]}–${range[1]}` : ''];
    return `${left.padEnd(40)}${f.help}\n${''.padEnd(40)}${facts.filter((x) => x !== '').join(', ')}\n`;
  });
  return `roommesh-signal: the roommesh signaling server

Usage: roommesh-signal [options]
       roommesh-signal token --room <room> --name <name> --secret <s> [--room <room2>] [--pid <id>]
                             [--ttl-ms <ms>] [--audience <aud>] [--issuer <iss>]   prints a dev JWT
                             (--all-rooms instead of --room: a token for every room)

${rows.join('')}  -h, --help                            show this help

Invalid values stop the server at start (some must also agree with another option: the message says which).
SIGTERM drains (GET /readyz answers 503, then the server closes); a second SIGTERM or SIGINT closes at once,
and a signal after the close began stops the process without finishing it (exit 1).
`;
}
