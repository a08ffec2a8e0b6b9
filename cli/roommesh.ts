#!/usr/bin/env node
/**
 * `roommesh`: a participant of a room from the command line, for scripts, agents and operators: list the
 * participants, send, broadcast, request, or listen. It uses only the library's public Node entry.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
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
import { saveOrSay, sha256 } from './attachments.js';
import { printable } from './printable.js';
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

/** The library's errors (and with --verbose everything) on stderr, never on stdout. */
function stderrLogger(verbose: boolean): Logger {
  if (!verbose) return { ...silentLogger, error: (o, m) => line('error', o, m) };
  return {
    debug: (o, m) => line('debug', o, m),
    info: (o, m) => line('info', o, m),
    warn: (o, m) => line('warn', o, m),
    error: (o, m) => line('error', o, m),
  };
  function line(level: string, obj: object, msg?: string): void {
    process.stderr.write(`${printable(JSON.stringify({ level, msg, ...obj }))}\n`);
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

/** --save-dir, checked: a folder, or one that can be made where the nearest existing ancestor is a folder. */
async function saveDirFlag(values: Parsed['values']): Promise<string> {
  const dir = typeof values['save-dir'] === 'string' ? values['save-dir'] : DEFAULT_SAVE_DIR;
  for (let at = resolve(dir); ; at = dirname(at)) {
    const found = await stat(at).then(
      (st) => st,
      (err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw new UsageError(`--save-dir ${dir}: ${err.message}`);
      },
    );
    if (found?.isDirectory() === true) return dir;
    if (found !== undefined) throw new UsageError(`--save-dir ${dir}: ${at} is not a folder`);
    if (dirname(at) === at) return dir;
  }
}

/** What a command needs besides the room, read and checked before connecting: a mistake costs no join. */
interface Inputs {
  message: JsonObject;
  to: string | undefined;
  type: string | undefined;
  attachment: Uint8Array | undefined;
  timeoutMs: number | undefined;
  saveDir: string;
}

async function inputs(command: Command, values: Parsed['values']): Promise<Inputs> {
  const sends = command === 'send' || command === 'broadcast' || command === 'request';
  return {
    message: sends ? dataFlag(values, command) : {},
    to: command === 'send' || command === 'request' ? required(values, 'to', command) : undefined,
    type: sends ? required(values, 'type', command) : undefined,
    attachment: sends ? await attachFlag(values) : undefined,
    timeoutMs: command === 'request' ? msFlag(values, 'timeout-ms', command) : undefined,
    saveDir: command === 'listen' || command === 'request' ? await saveDirFlag(values) : DEFAULT_SAVE_DIR,
  };
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

async function send(room: Room, input: Inputs, out: Output): Promise<Outcome> {
  const { message, attachment } = input;
  const to = findParticipant(room, input.to!);
  const type = input.type!;
  await room.messaging.sendMessage({ to, type, message, ...(attachment ? { attachment } : {}) });
  const sent = {
    sent: true,
    to: who(to),
    ...(attachment ? { attachment: { bytes: attachment.byteLength, sha256: sha256(attachment) } } : {}),
  };
  out.print(sent, `sent ${type} to ${to.name} (${to.id})`);
  return EXIT.ok;
}

async function broadcast(room: Room, input: Inputs, out: Output): Promise<Outcome> {
  const { message, attachment } = input;
  const type = input.type!;
  const r = await room.messaging.broadcastMessage({ type, message, ...(attachment ? { attachment } : {}) });
  const errors = Object.fromEntries(Object.entries(r.errors).map(([id, e]) => [id, e.reason]));
  out.print(
    { delivered: r.delivered, failed: r.failed, errors },
    `delivered to ${r.delivered.length}, failed for ${r.failed.length}${r.failed.length > 0 ? `: ${JSON.stringify(errors)}` : ''}`,
  );
  return r.failed.length === 0 ? EXIT.ok : EXIT.failed;
}

async function request(room: Room, input: Inputs, out: Output): Promise<Outcome> {
  const { message, attachment, timeoutMs, saveDir } = input;
  const to = findParticipant(room, input.to!);
  const type = input.type!;
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
  // As listen does: a reply whose attachment cannot be saved is printed all the same, saying why; the
  // command then fails (exit 1), as part of what it was asked for is not on disk.
  const { attachment: saved, attachmentError } = await saveOrSay(saveDir, reply.attachment);
  out.print(
    { from: who(reply.from), message: reply.message, attachment: saved, attachmentError },
    `reply from ${reply.from.name}: ${JSON.stringify(reply.message)}${saved ? ` (attachment ${saved.path})` : ''}${attachmentError !== undefined ? ` (attachment not saved: ${attachmentError})` : ''}`,
  );
  return attachmentError === undefined ? EXIT.ok : EXIT.failed;
}

/**
 * Prints every message as a JSON line until SIGINT/SIGTERM or until stdout is closed (a reader such as
 * `head` that has had enough); then leaves the room and resolves 0. Resolves 1 when the server will not take
 * this participant back (`signaling_failed`: an expired token, ...), which no retry changes.
 */
function listen(room: Room, saveDir: string): Promise<Outcome> {
  // One message at a time, in the order they arrived, though saving an attachment takes a while.
  let queue = Promise.resolve();
  room.messaging.on('message', (m) => {
    queue = queue.then(async () => {
      // The message is printed either way: it was delivered (and acknowledged); only its bytes may not be on disk.
      const { attachment, attachmentError } = await saveOrSay(saveDir, m.attachment);
      if (attachmentError !== undefined)
        process.stderr.write(
          `${printable(`roommesh: could not save the attachment of a ${m.type} message from ${m.from.name}: ${attachmentError}`)}\n`,
        );
      const line = { from: who(m.from), type: m.type, message: m.message, attachment, attachmentError };
      writeOut(`${printable(JSON.stringify(line))}\n`);
    });
  });
  process.stderr.write(
    `${printable(`roommesh: listening in room ${room.name} as ${room.localParticipant.name} (${room.localParticipant.id})`)}\n`,
  );
  return new Promise((resolve) => {
    const stop = (code: Outcome): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      stdoutGone.signal.removeEventListener('abort', onSignal);
      // A second signal while leaving ends at once.
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      void queue.then(() => room.disconnect()).then(() => resolve(code));
    };
    const onSignal = (): void => stop(EXIT.ok);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    stdoutGone.signal.addEventListener('abort', onSignal);
    room.on('signaling_failed', (err) => {
      process.stderr.write(`${printable(`roommesh: ${err.message}`)}\n`);
      stop(EXIT.failed);
    });
  });
}

async function run(command: Command, parsed: Parsed, out: Output): Promise<Outcome> {
  const input = await inputs(command, parsed.values);
  const room = await connect(parsed.connection!, parsed.values.verbose === true);
  if (command === 'listen') return listen(room, input.saveDir);
  const interrupted = leaveOnSignal(room);
  try {
    // Leaving ends what was under way (a request rejects: the participant left); the signal decides the code.
    const work = once(command, room, input, out).catch((err: unknown) => {
      if (interrupted.fired()) return interrupted.outcome;
      throw err;
    });
    return await Promise.race([interrupted.outcome, work]);
  } finally {
    interrupted.stop();
    await room.disconnect();
  }
}

async function once(command: Exclude<Command, 'listen'>, room: Room, input: Inputs, out: Output): Promise<Outcome> {
  switch (command) {
    case 'list':
      return list(room, out);
    case 'send':
      return await send(room, input, out);
    case 'broadcast':
      return await broadcast(room, input, out);
    case 'request':
      return await request(room, input, out);
    default:
      throw new UsageError(`no such command "${String(command satisfies never)}"`);
  }
}

/**
 * SIGINT or SIGTERM during a command that is under way: it is given up (a send not acknowledged yet fails,
 * though it may have arrived), and the room is left as any command leaves it, so that the others see the participant go at
 * once rather than when its connection is found dead. `outcome` then resolves 130 or 143; a second signal
 * ends the process at once.
 */
function leaveOnSignal(room: Room): { outcome: Promise<Outcome>; fired: () => boolean; stop: () => void } {
  let stop = (): void => {};
  let fired = false;
  const outcome = new Promise<Outcome>((resolve) => {
    const on = (code: Outcome): void => {
      fired = true;
      stop();
      process.stderr.write('roommesh: interrupted: leaving the room\n');
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      void room.disconnect().finally(() => resolve(code));
    };
    const onInt = (): void => on(130);
    const onTerm = (): void => on(143);
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
    stop = () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    };
  });
  return { outcome, fired: () => fired, stop };
}

/**
 * Aborted when stdout's reader has gone (EPIPE: `roommesh listen | head -1`): nothing more is written, and
 * `listen` leaves the room as on SIGINT; other commands finish what they were doing.
 */
const stdoutGone = new AbortController();
process.stdout.on('error', () => stdoutGone.abort());

/** Writes to stdout while it has a reader. */
function writeOut(text: string): void {
  if (!stdoutGone.signal.aborted) process.stdout.write(text);
}

/** The exit code for an error, and its line on stderr. */
function report(err: unknown): number {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof UsageError) {
    process.stderr.write(`${printable(`roommesh: ${message}`)}\nRun roommesh --help for the commands and flags.\n`);
    return EXIT.usage;
  }
  process.stderr.write(`${printable(`roommesh: ${message}`)}\n`);
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
    writeOut(helpText(parsed.command));
    return EXIT.ok;
  }
  const human = process.stdout.isTTY === true && parsed.values.json !== true;
  const out: Output = {
    human,
    print: (json, text) => writeOut(`${printable(human ? text : JSON.stringify(json))}\n`),
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
