/**
 * The chaos soak: a few participants talk to each other without pause while the signaling server, run
 * with default settings (no resume secret), is killed with SIGKILL and restarted on the same port, again
 * and again (10 minutes by default). After each restart a newcomer must find every participant within a
 * few seconds, and reach each one. At the end it checks what README's "What you can rely on" promises:
 * - every acknowledged message arrived exactly once, in order; no send failed;
 * - no participant ever saw another of the conversation leave (`participant_removed`);
 * - no room gave up (`signaling_failed`); every one re-joined (`signaling_rejoined`) after each restart.
 *
 * Run inside a loopback-only network namespace (npm run bench -- chaos does that):
 *   node dist/bench/chaos-soak.js [--seconds 600] [--participants 4] [--every-ms 8000]
 * Prints a summary as JSON; exits 1 when a check fails. Not part of `npm test`.
 */
import { parseArgs } from 'node:util';
import { Room, silentLogger } from '../lib/node.js';
import { startSignal, stop, stopAll, type Proc } from '../test/support/processes.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '600' },
    participants: { type: 'string', default: '4' },
    'every-ms': { type: 'string', default: '8000' },
  },
});
const seconds = Number(values.seconds);
const count = Number(values.participants);
const everyMs = Number(values['every-ms']);
/** How long after a restart a newcomer must find everyone. */
const HEAL_WITHIN_MS = 10_000;
const ROOM = 'chaos';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const problems: string[] = [];

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await sleep(25);
  }
  return true;
}

let server: Proc & { url: string } = await startSignal(['--log-level', 'error']);
const url = server.url;
const rooms: Room[] = [];
const rejoins = new Map<string, number>();
/** Acknowledged sends and receipts, as "from>to:n". */
const acknowledged = new Set<string>();
const received: string[] = [];
let failedSends = 0;
let sending = true;
const sends: Array<Promise<void>> = [];

try {
  for (let i = 0; i < count; i++) {
    const room = await Room.connect({ url, room: ROOM, name: `p${i}`, logger: silentLogger });
    rooms.push(room);
    rejoins.set(room.localParticipant.name, 0);
    room.on('signaling_failed', (e) => problems.push(`p${i}: signaling_failed ${e.serverReason ?? e.reason}`));
    room.on('signaling_rejoined', () => rejoins.set(`p${i}`, (rejoins.get(`p${i}`) ?? 0) + 1));
    room.messaging.on('participant_removed', (p) => {
      if (!p.name.startsWith('newcomer')) problems.push(`p${i} saw ${p.name} leave`);
    });
    room.messaging.on('message', (m) => {
      if (m.type === 'n') received.push(`${m.from.name}>p${i}:${String(m.message.n)}`);
    });
    await room.messaging.enable();
  }
  if (!(await until(() => rooms.every((r) => r.messaging.remoteParticipants.length === count - 1), 20_000)))
    throw new Error('the mesh did not form');

  // Each participant sends to every other, by participant object (what an app holds), every 50 ms.
  const seq = new Map<string, number>();
  const pump = setInterval(() => {
    if (!sending) return;
    for (const from of rooms) {
      for (const to of from.messaging.remoteParticipants) {
        if (to.name.startsWith('newcomer')) continue;
        const key = `${from.localParticipant.name}>${to.name}`;
        const n = seq.get(key) ?? 0;
        seq.set(key, n + 1);
        sends.push(
          from.messaging.sendMessage({ to, type: 'n', message: { n } }).then(
            () => void acknowledged.add(`${key}:${n}`),
            () => void failedSends++,
          ),
        );
      }
    }
  }, 50);

  const endAtMs = Date.now() + seconds * 1000;
  let restarts = 0;
  while (Date.now() + everyMs < endAtMs) {
    await sleep(everyMs * (0.5 + Math.random() / 2));
    await stop(server, 'SIGKILL');
    await sleep(500 + Math.random() * 1500);
    server = await startSignal(['--log-level', 'error'], { port: server.port });
    const backAtMs = Date.now();
    restarts++;
    const newcomer = await Room.connect({ url, room: ROOM, name: `newcomer${restarts}`, logger: silentLogger });
    try {
      await newcomer.messaging.enable();
      const found = await until(
        () => newcomer.messaging.remoteParticipants.length === count,
        Math.max(0, HEAL_WITHIN_MS - (Date.now() - backAtMs)),
      );
      if (!found)
        problems.push(
          `restart ${restarts}: the newcomer found ${newcomer.messaging.remoteParticipants.length} of ${count} within ${HEAL_WITHIN_MS} ms`,
        );
      else {
        const acks = await Promise.allSettled(
          newcomer.messaging.remoteParticipants.map((to) =>
            newcomer.messaging.sendMessage({ to, type: 'hi', message: {} }),
          ),
        );
        const bad = acks.filter((a) => a.status === 'rejected').length;
        if (bad > 0) problems.push(`restart ${restarts}: the newcomer could not reach ${bad} participants`);
      }
    } finally {
      await newcomer.disconnect();
    }
  }
  sending = false;
  clearInterval(pump);
  await Promise.all(sends);
  await sleep(500);

  const got = new Map<string, number>();
  for (const r of received) got.set(r, (got.get(r) ?? 0) + 1);
  const lost = [...acknowledged].filter((k) => !got.has(k));
  const doubled = [...got].filter(([, n]) => n > 1).map(([k]) => k);
  if (lost.length > 0) problems.push(`${lost.length} acknowledged messages never arrived, e.g. ${lost[0]}`);
  if (doubled.length > 0) problems.push(`${doubled.length} messages arrived twice, e.g. ${doubled[0]}`);
  if (failedSends > 0) problems.push(`${failedSends} sends failed`);
  for (const [name, n] of rejoins)
    if (n !== restarts) problems.push(`${name} re-joined ${n} times for ${restarts} restarts`);
  process.stdout.write(
    `${JSON.stringify({ seconds, participants: count, restarts, acknowledged: acknowledged.size, received: received.length, failedSends, problems }, null, 2)}\n`,
  );
} finally {
  sending = false;
  await Promise.all(rooms.map((r) => r.disconnect().catch(() => {})));
  await stopAll();
}
process.exit(problems.length === 0 ? 0 : 1);
