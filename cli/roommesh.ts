#!/usr/bin/env node
/**
 * `roommesh`: a participant of a room from the command line, for scripts, agents and operators: list the
 * participants, send, broadcast, request, or listen. It uses only the library's public Node entry.
 */
import { readFile } from 'node:fs/promises';
import {
  MessagingError,
  Room,
  silentLogger,
  type JsonObject,
  type Logger,
  type RemoteParticipant,
  type RoomOptions,
} from '../lib/node.js';
import {
  DEFAULT_SAVE_DIR,
  EXIT,
  UsageError,
  dataFlag,
  helpText,
  msFlag,
  parseCommandLine,
  required,
  type Command,
  type Connection,
  type Parsed,
} from './args.js';
import { saveAttachment, sha256 } from './attachments.js';
import { sendRequest } from './request.js';

/** How a command ended, when not by throwing. */
type Outcome = number;

/** Where results go: JSON lines, or lines for a person at a terminal. */
interface Output {
  human: boolean;
  /** One result: `json` as a line, or `text` for a person. */
  print(json: unknown, text: string): void;
}

/** An error that ends the command with `code`. */
class CommandError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** The library's warnings and errors (and with --verbose everything) on stderr, never on stdout. */
function stderrLogger(verbose: boolean): Logger {
  if (!verbose) return { ...silentLogger, error: (o, m) => line('error', o, m) };
  return {
    debug: (o, m) => line('debug', o, m),
    info: (o, m) => line('info', o, m),
    warn: (o, m) => line('warn', o, m),
    error: (o, m) => line('error', o, m),
  };
  function line(level: string, obj: object, msg?: string): void {
    process.stderr.write(`${JSON.stringify({ level, msg, ...obj })}\n`);
  }
}

async function connect(c: Connection, verbose: boolean): Promise<Room> {
  const options: RoomOptions = { url: c.url, room: c.room, name: c.name, logger: stderrLogger(verbose) };
  if (c.token !== undefined) options.token = c.token;
  const room = await Room.connect(options);
  try {
    // Resolves once every participant with messaging enabled is present (or failed to connect).
    await room.messaging.enable();
  } catch (err) {
    await room.disconnect();
    throw err;
  }
  return room;
}

/** The participant `to` names: an id first, else the earliest to join with that name. */
function findParticipant(room: Room, to: string): RemoteParticipant {
  const p = room.messaging.getParticipant(to) ?? room.messaging.getParticipantByName(to);
  if (p === undefined) throw new CommandError(EXIT.notFound, `no participant "${to}" in room ${room.name}`);
  return p;
}

async function attachFlag(values: Parsed['values']): Promise<Uint8Array | undefined> {
  const file = values.attach;
  if (typeof file !== 'string') return undefined;
  try {
    return new Uint8Array(await readFile(file));
  } catch (err) {
    throw new UsageError(`--attach ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function who(p: { id: string; name: string }): { id: string; name: string } {
  return { id: p.id, name: p.name };
}

function list(room: Room, out: Output): Outcome {
  for (const p of room.messaging.getParticipants()) {
    out.print(
      { id: p.id, name: p.name, joinedAtMs: p.joinedAtMs, attributes: p.attributes },
      `${p.name}\t${p.id}\t${JSON.stringify(p.attributes)}`,
    );
  }
  return EXIT.ok;
}

async function send(room: Room, values: Parsed['values'], out: Output, message: JsonObject): Promise<Outcome> {
  const to = findParticipant(room, required(values, 'to', 'send'));
  const type = required(values, 'type', 'send');
  const attachment = await attachFlag(values);
  await room.messaging.sendMessage({ to, type, message, ...(attachment ? { attachment } : {}) });
  const sent = {
    sent: true,
    to: who(to),
    ...(attachment ? { attachment: { bytes: attachment.byteLength, sha256: sha256(attachment) } } : {}),
  };
  out.print(sent, `sent ${type} to ${to.name} (${to.id})`);
  return EXIT.ok;
}

async function broadcast(room: Room, values: Parsed['values'], out: Output, message: JsonObject): Promise<Outcome> {
  const type = required(values, 'type', 'broadcast');
  const attachment = await attachFlag(values);
  const r = await room.messaging.broadcastMessage({ type, message, ...(attachment ? { attachment } : {}) });
  const errors = Object.fromEntries(Object.entries(r.errors).map(([id, e]) => [id, e.reason]));
  out.print(
    { delivered: r.delivered, failed: r.failed, errors },
    `delivered to ${r.delivered.length}, failed for ${r.failed.length}${r.failed.length > 0 ? `: ${JSON.stringify(errors)}` : ''}`,
  );
  return r.failed.length === 0 ? EXIT.ok : EXIT.failed;
}

async function request(room: Room, values: Parsed['values'], out: Output, message: JsonObject): Promise<Outcome> {
  const to = findParticipant(room, required(values, 'to', 'request'));
  const type = required(values, 'type', 'request');
  const attachment = await attachFlag(values);
  const timeoutMs = msFlag(values, 'timeout-ms', 'request');
  let reply;
  try {
    reply = await sendRequest(room.messaging, {
      to: to.id,
      type,
      message,
      ...(attachment ? { attachment } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    });
  } catch (err) {
    const reason = (err as { reason?: unknown }).reason;
    if (reason === 'NoHandler') throw new CommandError(EXIT.notFound, `${to.name} has no handler for "${type}"`);
    throw err;
  }
  const saveDir = typeof values['save-dir'] === 'string' ? values['save-dir'] : DEFAULT_SAVE_DIR;
  const saved = reply.attachment === undefined ? null : await saveAttachment(saveDir, reply.attachment);
  out.print(
    { from: who(reply.from), message: reply.message, attachment: saved },
    `reply from ${reply.from.name}: ${JSON.stringify(reply.message)}${saved ? ` (attachment ${saved.path})` : ''}`,
  );
  return EXIT.ok;
}

/** Prints every message as a JSON line until SIGINT/SIGTERM; then leaves the room and resolves 0. */
function listen(room: Room, values: Parsed['values']): Promise<Outcome> {
  const saveDir = typeof values['save-dir'] === 'string' ? values['save-dir'] : DEFAULT_SAVE_DIR;
  // One message at a time, in the order they arrived, though saving an attachment takes a while.
  let queue = Promise.resolve();
  room.messaging.on('message', (m) => {
    queue = queue
      .then(async () => {
        const attachment = m.attachment === undefined ? null : await saveAttachment(saveDir, m.attachment);
        const line = { from: who(m.from), type: m.type, message: m.message, attachment };
        process.stdout.write(`${JSON.stringify(line)}\n`);
      })
      .catch((err: unknown) => {
        process.stderr.write(
          `roommesh: could not save an attachment: ${err instanceof Error ? err.message : String(err)}\n`,
        );
      });
  });
  process.stderr.write(
    `roommesh: listening in room ${room.name} as ${room.localParticipant.name} (${room.localParticipant.id})\n`,
  );
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      // A second signal while leaving ends at once.
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      void queue.then(() => room.disconnect()).then(() => resolve(EXIT.ok));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

async function run(command: Command, parsed: Parsed, out: Output): Promise<Outcome> {
  const message = command === 'list' || command === 'listen' ? {} : dataFlag(parsed.values, command);
  if (command === 'request') msFlag(parsed.values, 'timeout-ms', command); // a bad value before connecting
  const room = await connect(parsed.connection!, parsed.values.verbose === true);
  try {
    switch (command) {
      case 'list':
        return list(room, out);
      case 'send':
        return await send(room, parsed.values, out, message);
      case 'broadcast':
        return await broadcast(room, parsed.values, out, message);
      case 'request':
        return await request(room, parsed.values, out, message);
      case 'listen':
        return await listen(room, parsed.values);
      default:
        throw new UsageError(`no such command "${String(command satisfies never)}"`);
    }
  } finally {
    if (command !== 'listen') await room.disconnect();
  }
}

/** The exit code for an error, and its line on stderr. */
function report(err: unknown): number {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof UsageError) {
    process.stderr.write(`roommesh: ${message}\nRun roommesh --help for the commands and flags.\n`);
    return EXIT.usage;
  }
  process.stderr.write(`roommesh: ${message}\n`);
  if (err instanceof CommandError) return err.code;
  if (err instanceof MessagingError && err.reason === 'ParticipantNotFound') return EXIT.notFound;
  return EXIT.failed;
}

async function main(argv: string[]): Promise<number> {
  let parsed: Parsed;
  try {
    parsed = parseCommandLine(argv, process.env);
  } catch (err) {
    return report(err);
  }
  if (parsed.help || parsed.command === undefined) {
    process.stdout.write(helpText(parsed.command));
    return EXIT.ok;
  }
  const human = process.stdout.isTTY === true && parsed.values.json !== true;
  const out: Output = {
    human,
    print: (json, text) => process.stdout.write(`${human ? text : JSON.stringify(json)}\n`),
  };
  try {
    return await run(parsed.command, parsed, out);
  } catch (err) {
    return report(err);
  }
}

// Exits at once rather than waiting for the event loop: a timer the library still holds must not keep a
// script waiting. stdout and stderr are written synchronously to files and pipes, so nothing is lost.
process.exit(await main(process.argv.slice(2)));
