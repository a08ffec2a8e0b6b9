/**
 * The command line of `roommesh`: subcommands, their flags, `ROOMMESH_*` variables for the connection,
 * and the help text. Parsing only; nothing here connects.
 */
import { parseArgs } from 'node:util';
import type { JsonObject } from '../lib/node.js';

/** Exit codes: what a script can tell apart. */
export const EXIT = Object.freeze({
  ok: 0,
  /** Sending failed, the server is unreachable, a request was refused or timed out, ... */
  failed: 1,
  /** A flag or value the command line does not accept. */
  usage: 2,
  /** No such participant (or, for a request, no handler for the type). */
  notFound: 3,
});

/** A command line that cannot run; exits with {@link EXIT.usage}. */
export class UsageError extends Error {
  override name = 'UsageError';
  /** Always 'Usage'. */
  readonly reason = 'Usage';
}

/** The subcommands. */
export const COMMANDS = ['list', 'send', 'broadcast', 'request', 'listen'] as const;
/** One subcommand. */
export type Command = (typeof COMMANDS)[number];

/** Where and as whom to connect. */
export interface Connection {
  url: string;
  room: string;
  name: string;
  token: string | undefined;
}

/** A parsed command line. */
export interface Parsed {
  command: Command | undefined;
  help: boolean;
  connection: Connection | undefined;
  /** The subcommand's own flags, as parseArgs gave them. */
  values: Record<string, string | boolean | undefined>;
}

type Option = { type: 'string' | 'boolean'; short?: string };

/** Flags every subcommand takes; the connection ones also come from their variable. */
const COMMON: Record<string, Option> = {
  url: { type: 'string' },
  room: { type: 'string' },
  name: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
};

/** Each subcommand's own flags. */
const OWN: Record<Command, Record<string, Option>> = {
  list: {},
  send: { to: { type: 'string' }, type: { type: 'string' }, data: { type: 'string' }, attach: { type: 'string' } },
  broadcast: { type: { type: 'string' }, data: { type: 'string' }, attach: { type: 'string' } },
  request: {
    to: { type: 'string' },
    type: { type: 'string' },
    data: { type: 'string' },
    attach: { type: 'string' },
    'timeout-ms': { type: 'string' },
    'save-dir': { type: 'string' },
  },
  listen: { 'save-dir': { type: 'string' } },
};

/** The environment variable of each connection flag. */
export const ENV = Object.freeze({
  url: 'ROOMMESH_URL',
  room: 'ROOMMESH_ROOM',
  name: 'ROOMMESH_NAME',
  token: 'ROOMMESH_TOKEN',
});

/** The name this participant joins under when neither --name nor ROOMMESH_NAME says. */
export const DEFAULT_NAME = 'roommesh-cli';
/** Where `listen` (and `request`) save attachments unless --save-dir says. */
export const DEFAULT_SAVE_DIR = './roommesh-attachments';

/** Parses `argv` (after `node roommesh.js`) and the environment; throws {@link UsageError}. */
export function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv): Parsed {
  const first = argv[0];
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? argv[1] : undefined;
    if (topic !== undefined && !isCommand(topic)) throw new UsageError(`no such command "${topic}"`);
    return { command: topic, help: true, connection: undefined, values: {} };
  }
  if (!isCommand(first)) throw new UsageError(`no such command "${first}"`);
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: argv.slice(1),
      options: { ...COMMON, ...OWN[first] },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    throw new UsageError(`${first}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (values.help === true) return { command: first, help: true, connection: undefined, values };
  const pick = (key: keyof typeof ENV): string | undefined => {
    const v = values[key] ?? env[ENV[key]];
    return typeof v === 'string' && v.length > 0 ? v : undefined;
  };
  const url = pick('url');
  const room = pick('room');
  if (url === undefined) throw new UsageError(`${first}: give --url (or ${ENV.url}), the signaling server's URL`);
  if (room === undefined) throw new UsageError(`${first}: give --room (or ${ENV.room})`);
  const connection = { url, room, name: pick('name') ?? DEFAULT_NAME, token: pick('token') };
  return { command: first, help: false, connection, values };
}

function isCommand(s: string): s is Command {
  return (COMMANDS as readonly string[]).includes(s);
}

/** A string flag that must be there. */
export function required(values: Parsed['values'], flag: string, command: Command): string {
  const v = values[flag];
  if (typeof v !== 'string' || v.length === 0) throw new UsageError(`${command}: give --${flag}`);
  return v;
}

/** --data: a JSON object (default `{}`). */
export function dataFlag(values: Parsed['values'], command: Command): JsonObject {
  const raw = values.data;
  if (raw === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(raw));
  } catch (err) {
    throw new UsageError(`${command}: --data is not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new UsageError(`${command}: --data must be a JSON object, e.g. '{"text":"hi"}'`);
  return parsed as JsonObject;
}

/** A whole number of milliseconds, or undefined when the flag is absent. */
export function msFlag(values: Parsed['values'], flag: string, command: Command): number | undefined {
  const raw = values[flag];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw) || Number(raw) === 0)
    throw new UsageError(`${command}: --${flag} must be a whole number of milliseconds > 0, got "${String(raw)}"`);
  return Number(raw);
}

const CONNECTION_HELP = `Connection (every command):
  --url <url>          signaling server, e.g. http://127.0.0.1:8080   env ROOMMESH_URL
  --room <room>        room to join                                    env ROOMMESH_ROOM
  --name <name>        this participant's name, default ${DEFAULT_NAME}       env ROOMMESH_NAME
  --token <jwt>        token, for servers that require one             env ROOMMESH_TOKEN
  --json               JSON lines even when stdout is a terminal
  -v, --verbose        the library's log lines on stderr
  -h, --help           this help
`;

const EXIT_HELP = `Exit codes: 0 done, 1 failed (server unreachable, sending failed, ...), 2 usage error,
3 not found (no such participant; for request also no handler for the type).
`;

const HELP: Record<Command, string> = {
  list: `roommesh list: the participants with messaging enabled, and their attributes.

Usage: roommesh list [connection]

One JSON line per participant ({"id","name","joinedAtMs","attributes"}), or a table on a terminal.
`,
  send: `roommesh send: one message to one participant; exits once it has acknowledged it.

Usage: roommesh send --to <name|id> --type <type> [--data <json>] [--attach <file>] [connection]

  --to <name|id>       the recipient: a participant id, or a name (the earliest to join with that name)
  --type <type>        the message's type
  --data <json>        the message, a JSON object, default {}
  --attach <file>      a file sent as the attachment
`,
  broadcast: `roommesh broadcast: one message to every participant present.

Usage: roommesh broadcast --type <type> [--data <json>] [--attach <file>] [connection]

Prints {"delivered":[ids],"failed":[ids]}; exits 1 when any recipient failed.
`,
  request: `roommesh request: a message to one participant, and its reply.

Usage: roommesh request --to <name|id> --type <type> [--data <json>] [--attach <file>] [--timeout-ms <ms>]
                        [--save-dir <dir>] [connection]

Prints the reply as one JSON line; a reply's attachment is saved in --save-dir (default
${DEFAULT_SAVE_DIR}) under its SHA-256. Needs a library version with messaging.request().
`,
  listen: `roommesh listen: prints each message received as one JSON line, until SIGINT or SIGTERM.

Usage: roommesh listen [--save-dir <dir>] [connection]

  --save-dir <dir>     where attachments are saved, named by their SHA-256, default ${DEFAULT_SAVE_DIR}

Each line: {"from":{"id","name"},"type","message","attachment":null|{"bytes","sha256","path"}}.
`,
};

/** The help of one subcommand, or the overview. */
export function helpText(command: Command | undefined): string {
  if (command !== undefined) return `${HELP[command]}\n${CONNECTION_HELP}\n${EXIT_HELP}`;
  return `roommesh: a participant of a roommesh room, from the command line.

Usage: roommesh <command> [flags]

Commands:
  list        the participants and their attributes
  send        a message to one participant (--to, --type, --data, --attach)
  broadcast   a message to everyone present
  request     a message to one participant, and its reply
  listen      every message received, as JSON lines, until interrupted

roommesh <command> --help shows a command's flags.

${CONNECTION_HELP}
${EXIT_HELP}`;
}
