/**
 * One participant of the chaos soak (bench/chaos-soak.ts), in its own process, driven over IPC; the soak
 * may SIGKILL it at any moment.
 * argv: <signaling url> <room> <name> <seed> <log file> <messages per second>
 *
 * Sends, while told to, direct messages and broadcasts to random present participants, a fraction of
 * them with an attachment of random bytes (64 KiB to 2 MiB) whose SHA-256 rides in the message. Everything
 * the soak checks goes to the log file with a synchronous write before the event that caused it returns,
 * so what happened before a SIGKILL is on disk (a receipt is written before its acknowledgement leaves):
 *   `a <to> <n>`                      a message this one sent was acknowledged by <to> (`?`: name unknown)
 *   `f <to> <n> <reason> <ms>`        a send to <to> failed after <ms>
 *   `r <from> <n> <ok|bad> <bytes>`   a message arrived (attachment hash checked)
 *   `+ <name> <t>` / `- <name> <t>`   participant_added / participant_removed, at Date.now()
 *   `x <what> <t>`                    signaling_failed and other things that must not happen
 * The library's log lines (every level) go to `<log file without .log>.lib.log`.
 * Names, not ids, identify participants: a default-settings server that restarts gives everyone new ids.
 */
import { createHash, randomBytes } from 'node:crypto';
import { openSync, writeSync } from 'node:fs';
import { Room, nodeDataChannelWebRTC, type Logger, type PathPolicy, type RemoteParticipant } from '../lib/node.js';
import { countingWebRTC } from './counting-webrtc.js';
import { seededRandom } from './seeded-random.js';

const [url, roomName, name, seedArg, logFile, rateArg, pathsArg] = process.argv.slice(2);
if (url === undefined || roomName === undefined || name === undefined || logFile === undefined)
  throw new Error('usage: chaos-participant.js <url> <room> <name> <seed> <log file> <messages per second> [paths]');

// The soak may die without killing us: then so do we.
process.on('disconnect', () => process.exit(0));

const random = seededRandom(Number(seedArg ?? 1));
const log = openSync(logFile, 'a');
const write = (line: string): void => void writeSync(log, `${line}\n`);

// The library's own lines, every level, beside the soak's log: kept with it when a check fails, to say why.
const libLog = openSync(logFile.replace(/\.log$/, '') + '.lib.log', 'a');
const libLine =
  (level: string) =>
  (obj: object, msg?: string): void =>
    void writeSync(libLog, `${Date.now()} ${level} ${msg ?? ''} ${JSON.stringify(obj)}\n`);
const logger: Logger = {
  debug: libLine('debug'),
  info: libLine('info'),
  warn: libLine('warn'),
  error: libLine('error'),
};

const counted = countingWebRTC(nodeDataChannelWebRTC());
const room = await Room.connect({
  url,
  room: roomName,
  name,
  logger,
  wrtc: counted.wrtc,
  ...(pathsArg === undefined ? {} : { paths: pathsArg as PathPolicy }),
});
/** The soak's newcomers only look around and leave: nobody records what they get, so nobody sends to them. */
const isNewcomer = (peerName: string | undefined): boolean => peerName?.startsWith('newcomer') ?? false;
room.on('signaling_failed', (e) => write(`x signaling_failed:${e.serverReason ?? e.reason} ${Date.now()}`));
room.messaging.on('participant_added', (p) => {
  if (!isNewcomer(p.name)) write(`+ ${p.name} ${Date.now()}`);
});
room.messaging.on('participant_removed', (p) => {
  if (!isNewcomer(p.name)) write(`- ${p.name} ${Date.now()}`);
});
room.messaging.on('message', (m) => {
  if (m.type !== 'chaos') return;
  const { n, sha } = m.message as { n: number; sha?: string };
  const bytes = m.attachment?.byteLength ?? 0;
  const ok =
    sha === undefined
      ? bytes === 0
      : createHash('sha256')
          .update(m.attachment ?? new Uint8Array())
          .digest('hex') === sha;
  write(`r ${m.from.name} ${n} ${ok ? 'ok' : 'bad'} ${bytes}`);
});

const MAX_IN_FLIGHT = 8;
const ATTACHMENT_SHARE = 0.15;
const BROADCAST_SHARE = 0.15;
const rate = Number(rateArg ?? 20);
let n = 0;
const inFlight = new Set<Promise<void>>();
let running = false;

/** 64 KiB to 2 MiB, log-uniform: most attachments are small, some fill the 4 chunks in flight many times. */
function attachmentBytes(): number {
  return Math.floor(64 * 1024 * 32 ** random());
}

function sendOne(peers: readonly RemoteParticipant[]): void {
  const id = ++n;
  const attachment = random() < ATTACHMENT_SHARE ? randomBytes(attachmentBytes()) : undefined;
  const message = attachment ? { n: id, sha: createHash('sha256').update(attachment).digest('hex') } : { n: id };
  const extra = attachment
    ? { attachment: new Uint8Array(attachment.buffer, attachment.byteOffset, attachment.length) }
    : {};
  const startedMs = Date.now();
  let done: Promise<void>;
  if (random() < BROADCAST_SHARE) {
    // Ids change when a default-settings server restarts: keep the names of those present at the call
    // (newcomers too: a broadcast reaches them, and they may be gone when it resolves).
    const names = new Map(room.messaging.remoteParticipants.map((p) => [p.id, p.name]));
    done = room.messaging.broadcastMessage({ type: 'chaos', message, ...extra }).then(
      (r) => {
        for (const to of r.delivered) {
          const toName = names.get(to) ?? room.messaging.getParticipant(to)?.name;
          // `?`: acknowledged by an id this side no longer knows by name; the soak counts, cannot check, those.
          if (!isNewcomer(toName)) write(`a ${toName ?? '?'} ${id}`);
        }
        for (const to of r.failed)
          if (!isNewcomer(names.get(to)))
            write(`f ${names.get(to) ?? to} ${id} ${r.errors[to]?.reason ?? 'other'} ${Date.now() - startedMs}`);
      },
      (err: { reason?: string }) => write(`f * ${id} ${err.reason ?? String(err)} ${Date.now() - startedMs}`),
    );
  } else {
    const to = peers[Math.floor(random() * peers.length)]!;
    const toName = to.name;
    done = room.messaging.sendMessage({ to, type: 'chaos', message, ...extra }).then(
      () => write(`a ${toName} ${id}`),
      (err: { reason?: string }) => write(`f ${toName} ${id} ${err.reason ?? String(err)} ${Date.now() - startedMs}`),
    );
  }
  inFlight.add(done);
  void done.finally(() => inFlight.delete(done));
}

let generation = 0;
async function traffic(): Promise<void> {
  const mine = ++generation;
  while (running && mine === generation) {
    const peers = room.messaging.remoteParticipants.filter((p) => !isNewcomer(p.name));
    if (inFlight.size < MAX_IN_FLIGHT && peers.length > 0) sendOne(peers);
    // `rate` messages a second on average, in bursts.
    await new Promise((r) => setTimeout(r, random() * (2000 / rate)));
  }
}

/** After a GC when the process runs with --expose-gc. */
function memory(): { rssBytes: number; heapUsedBytes: number; openPeerConnections: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  return { rssBytes: m.rss, heapUsedBytes: m.heapUsed, openPeerConnections: counted.open() };
}

process.on('message', (msg: { start?: true; stop?: number; memory?: true; leave?: true }) => {
  if (msg.start && !running) {
    running = true;
    void traffic();
  }
  if (msg.stop !== undefined) {
    // Stop sending, and wait up to `stop` ms for every send to settle: one still pending then hangs.
    running = false;
    const endMs = Date.now() + msg.stop;
    const wait = (): void => {
      if (inFlight.size === 0 || Date.now() > endMs) process.send?.({ stopped: { pending: inFlight.size, sent: n } });
      else setTimeout(wait, 20);
    };
    wait();
  }
  if (msg.memory) process.send?.({ memory: memory() });
  if (msg.leave) void room.disconnect().then(() => process.send?.({ left: true }));
});

await room.messaging.enable();
process.send?.({ ready: room.localParticipant.id });
