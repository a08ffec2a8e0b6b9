/**
 * One participant of the soak run (bench/soak.ts), in its own process, driven over IPC.
 * argv: <signaling url> <room> <name> <seed>
 *
 * Sends, until told to stop, a mix of direct messages (a third with attachments up to 2 MiB) and
 * broadcasts to random present participants, keeping a bounded number in flight. Records the id of every
 * message it sent that was acknowledged, and of every message it received, and samples its memory and
 * the peer connections it has open. Reports all of it when asked.
 */
import { Room, nodeDataChannelWebRTC, silentLogger } from '../lib/node.js';
import { countingWebRTC } from './counting-webrtc.js';
import { seededRandom } from './seeded-random.js';

const [url, roomName, name, seedArg] = process.argv.slice(2);
if (url === undefined || roomName === undefined || name === undefined)
  throw new Error('usage: soak-participant.js <url> <room> <name> <seed>');

const random = seededRandom(Number(seedArg ?? 1));

/** Peer connections created and not yet closed. */
const counted = countingWebRTC(nodeDataChannelWebRTC());

const room = await Room.connect({
  url,
  room: roomName,
  name,
  logger: silentLogger,
  wrtc: counted.wrtc,
});
const me = room.localParticipant.id;
/** `${to} ${n}` of every direct or broadcast message acknowledged by its recipient. */
const acknowledged: string[] = [];
/** `${from} ${n}` of every message received. */
const received: string[] = [];
let failed = 0;
let failureReasons: Record<string, number> = {};
let n = 0;
let inFlight = 0;
let running = true;
const samples: Array<{ tMs: number; rssBytes: number; heapUsedBytes: number; openPeerConnections: number }> = [];
const t0 = Date.now();

room.messaging.on('message', (m) => {
  received.push(`${m.fromParticipantId} ${String(m.message.n)}`);
  const expected = m.message.size as number;
  if ((m.attachment?.byteLength ?? 0) !== expected)
    throw new Error(`attachment of ${m.attachment?.byteLength} bytes, announced ${expected}`);
});

const MAX_IN_FLIGHT = 8;
async function traffic(): Promise<void> {
  while (running) {
    const peers = room.messaging.remoteParticipants;
    if (inFlight >= MAX_IN_FLIGHT || peers.length === 0) {
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    const id = ++n;
    const size = random() < 0.33 ? Math.floor(random() ** 3 * 2 * 1024 * 1024) : 0;
    const attachment = size > 0 ? new Uint8Array(size).fill(id & 0xff) : undefined;
    const message = { n: id, size };
    inFlight++;
    if (random() < 0.15) {
      void room.messaging
        .broadcastMessage({ type: 'soak', message, ...(attachment ? { attachment } : {}) })
        .then(
          (r) => {
            for (const to of r.delivered) acknowledged.push(`${to} ${id}`);
            failed += r.failed.length;
          },
          () => failed++,
        )
        .finally(() => inFlight--);
    } else {
      const to = peers[Math.floor(random() * peers.length)]!;
      void room.messaging
        .sendMessage({ to, type: 'soak', message, ...(attachment ? { attachment } : {}) })
        .then(
          () => void acknowledged.push(`${to.id} ${id}`),
          (err: { reason?: string }) => {
            failed++;
            failureReasons[err.reason ?? 'other'] = (failureReasons[err.reason ?? 'other'] ?? 0) + 1;
          },
        )
        .finally(() => inFlight--);
    }
    // About 50 messages a second per participant, with bursts.
    await new Promise((r) => setTimeout(r, random() * 40));
  }
}

function sample(): void {
  const m = process.memoryUsage();
  samples.push({
    tMs: Date.now() - t0,
    rssBytes: m.rss,
    heapUsedBytes: m.heapUsed,
    openPeerConnections: counted.open(),
  });
}

process.on('message', (msg: { start?: true; stop?: true; report?: true; sample?: true; leave?: true }) => {
  if (msg.start) void traffic();
  if (msg.sample) {
    (globalThis as { gc?: () => void }).gc?.();
    sample();
    process.send?.({ sampled: true });
  }
  if (msg.stop) {
    running = false;
    const wait = (): void => {
      if (inFlight === 0) process.send?.({ stopped: true });
      else setTimeout(wait, 10);
    };
    wait();
  }
  if (msg.report) {
    process.send?.({
      report: {
        id: me,
        name,
        sent: n,
        acknowledged,
        received,
        failed,
        failureReasons,
        samples,
        present: room.messaging.remoteParticipants.length,
      },
    });
    failureReasons = {};
  }
  if (msg.leave) {
    void room.disconnect().then(() => {
      sample();
      process.send?.({ left: { openPeerConnections: counted.open() } });
    });
  }
});

await room.messaging.enable();
process.send?.({ ready: me });
