/** The text of `roommesh-signal --help`, made from the flag table and the options' defaults. */
import { FLAGS } from './cli-flag-table.js';
import { DEFAULT_SERVER_OPTIONS } from './options.js';

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
