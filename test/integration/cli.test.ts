/**
 * `roommesh`, the command-line participant, as real child processes (the built dist/cli/roommesh.js)
 * against a real signaling server, with real Node participants in this process on the other side.
 */
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Room } from '../../lib/node.js';
import type { SignalingServer } from '../../signaling/server.js';
import { Harness, bytes, eventually, nextEvent } from '../support/harness.js';

const CLI = fileURLToPath(new URL('../../cli/roommesh.js', import.meta.url));

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('roommesh command line', function () {
  this.timeout(30_000);
  const h = new Harness();
  const children: ChildProcess[] = [];
  let server: SignalingServer;
  let work: string;
  let roomNo = 0;

  /** Starts the CLI with only the ROOMMESH_* variables in `env`; `done` resolves once it has exited. */
  function start(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Ran> } {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: work,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...Object.fromEntries(
          Object.entries(process.env).filter(([k]) => !k.startsWith('ROOMMESH_') || k === 'ROOMMESH_IN_NETNS'),
        ),
        ...env,
      },
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const done = new Promise<Ran>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
    return { child, done };
  }
  const run = (args: string[], env: Record<string, string> = {}): Promise<Ran> => start(args, env).done;
  const lines = (out: string): unknown[] =>
    out
      .split('\n')
      .filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as unknown);

  /** A fresh room with `names` present in it, messaging enabled. */
  async function roomWith(...names: string[]): Promise<{ room: string; rooms: Room[]; conn: string[] }> {
    const room = `cli-${++roomNo}`;
    const rooms = await h.mesh(server, room, names);
    return { room, rooms, conn: ['--url', server.url, '--room', room] };
  }

  before(async () => {
    server = await h.server();
    work = mkdtempSync(join(tmpdir(), 'roommesh-cli-'));
  });
  afterEach(() => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  after(async () => {
    await h.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('--help lists the commands and the connection variables; <command> --help shows its flags', async () => {
    const top = await run(['--help']);
    expect(top.code).to.equal(0);
    for (const w of ['list', 'send', 'broadcast', 'request', 'listen', 'ROOMMESH_URL', 'ROOMMESH_TOKEN'])
      expect(top.stdout).to.include(w);
    const send = await run(['send', '--help']);
    expect(send.code).to.equal(0);
    for (const w of ['--to', '--type', '--data', '--attach']) expect(send.stdout).to.include(w);
    const listen = await run(['help', 'listen']);
    expect(listen.code).to.equal(0);
    expect(listen.stdout).to.include('--save-dir');
  });

  it('usage errors exit 2 with a message on stderr, before connecting', async () => {
    writeFileSync(join(work, 'a-file'), 'not a folder');
    for (const args of [
      ['frobnicate'],
      ['send', '--type', 't', '--to', 'x'], // no --url, no ROOMMESH_URL
      ['send', '--url', server.url, '--room', 'r', '--to', 'x', '--type', 't', '--data', '[1]'],
      ['send', '--url', server.url, '--room', 'r', '--to', 'x', '--type', 't', '--data', '{not json'],
      ['list', '--url', server.url, '--room', 'r', '--bogus'],
      ['request', '--url', server.url, '--room', 'r', '--to', 'x', '--type', 't', '--timeout-ms', 'soon'],
      // Checked before connecting: the mistake, not an unreachable server, decides the exit code.
      ['send', '--url', 'http://127.0.0.1:9', '--room', 'r', '--type', 't'], // no --to
      ['send', '--url', 'http://127.0.0.1:9', '--room', 'r', '--to', 'x', '--type', 't', '--attach', 'no-such-file'],
      ['listen', '--url', 'http://127.0.0.1:9', '--room', 'r', '--save-dir', 'a-file/sub'],
    ]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).to.equal(2);
      expect(r.stderr, args.join(' ')).to.match(/^roommesh: /);
      expect(r.stdout, args.join(' ')).to.equal('');
    }
  });

  it('list prints each participant present with its attributes, as JSON lines', async () => {
    const { conn, rooms } = await roomWith('bob', 'carol');
    rooms[0]!.localParticipant.setAttributes({ role: 'reviewer' });
    await eventually(
      () => rooms[1]!.messaging.getParticipantByName('bob')?.attributes.role === 'reviewer',
      5000,
      'attrs',
    );
    const r = await run(['list', ...conn, '--name', 'ops']);
    expect(r.code, r.stderr).to.equal(0);
    const got = lines(r.stdout) as Array<{ id: string; name: string; attributes: Record<string, unknown> }>;
    expect(got.map((p) => p.name).sort()).to.deep.equal(['bob', 'carol']);
    expect(got.find((p) => p.name === 'bob')).to.deep.include({
      id: rooms[0]!.localParticipant.id,
      attributes: { role: 'reviewer' },
    });
  });

  it('prints a name a peer chose with its control characters escaped: the same JSON, nothing a terminal acts on', async () => {
    // ESC ] 0 ; … BEL retitles a terminal; C1 CSI (U+009B) 2 J clears it, and JSON.stringify leaves it raw.
    const name = 'mal\u009b2J\u001b]0;pwned\u0007lory';
    const { conn } = await roomWith(name);
    const r = await run(['list', ...conn, '--name', 'ops']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('mal\\u009b2J\\u001b]0;pwned\\u0007lory');
    const raw = [...r.stdout].filter((c) => {
      const code = c.charCodeAt(0);
      return (code < 0x20 && c !== '\n') || (code >= 0x7f && code <= 0x9f);
    });
    expect(raw, 'raw control characters').to.deep.equal([]);
    expect((lines(r.stdout) as Array<{ name: string }>).map((p) => p.name)).to.deep.equal([name]);
  });

  it('takes the connection from ROOMMESH_URL, ROOMMESH_ROOM and ROOMMESH_NAME instead of flags', async () => {
    const { room, rooms } = await roomWith('bob');
    const got = nextEvent(rooms[0]!.messaging, 'message');
    const r = await run(['send', '--to', 'bob', '--type', 'ping', '--data', '{"n":1}'], {
      ROOMMESH_URL: server.url,
      ROOMMESH_ROOM: room,
      ROOMMESH_NAME: 'from-env',
    });
    expect(r.code, r.stderr).to.equal(0);
    const [m] = await got;
    expect(m.from.name).to.equal('from-env');
    expect(m.message).to.deep.equal({ n: 1 });
  });

  it('send --attach delivers the message and the file, byte for byte', async () => {
    const { conn, rooms } = await roomWith('bob');
    const file = join(work, 'payload.bin');
    const data = bytes(300 * 1024, 7);
    writeFileSync(file, data);
    const got = nextEvent(rooms[0]!.messaging, 'message');
    const r = await run([
      'send',
      ...conn,
      '--to',
      'bob',
      '--type',
      'file',
      '--data',
      '{"name":"payload.bin"}',
      '--attach',
      file,
    ]);
    expect(r.code, r.stderr).to.equal(0);
    const [m] = await got;
    expect(m.type).to.equal('file');
    expect(m.message).to.deep.equal({ name: 'payload.bin' });
    expect(sha256(m.attachment!)).to.equal(sha256(data));
    expect(lines(r.stdout)).to.deep.equal([
      {
        sent: true,
        to: { id: rooms[0]!.localParticipant.id, name: 'bob' },
        attachment: { bytes: data.byteLength, sha256: sha256(data) },
      },
    ]);
  });

  it('send to a participant that is not there exits 3; an unreachable server exits 1', async () => {
    const { conn } = await roomWith('bob');
    const missing = await run(['send', ...conn, '--to', 'nobody', '--type', 't']);
    expect(missing.code, missing.stderr).to.equal(3);
    expect(missing.stderr).to.include('no participant "nobody"');
    const down = await run(['list', '--url', 'http://127.0.0.1:1', '--room', 'r']);
    expect(down.code, down.stderr).to.equal(1);
    expect(down.stderr).to.include('cannot reach');
  });

  it('broadcast reaches everyone present and prints who got it', async () => {
    const { conn, rooms } = await roomWith('bob', 'carol');
    const got = rooms.map((r) => nextEvent(r.messaging, 'message'));
    const file = join(work, 'small.bin');
    writeFileSync(file, bytes(1000, 3));
    const r = await run(['broadcast', ...conn, '--type', 'hello', '--data', '{"all":true}', '--attach', file]);
    expect(r.code, r.stderr).to.equal(0);
    for (const p of got) {
      const [m] = await p;
      expect(m.message).to.deep.equal({ all: true });
      expect(m.attachment).to.deep.equal(bytes(1000, 3));
    }
    const [result] = lines(r.stdout) as Array<{ delivered: string[]; failed: string[] }>;
    expect(result!.delivered.sort()).to.deep.equal(rooms.map((x) => x.localParticipant.id).sort());
    expect(result!.failed).to.deep.equal([]);
  });

  it('listen prints a JSON line per message, saves attachments by SHA-256, and leaves cleanly on SIGINT', async () => {
    const { conn, rooms } = await roomWith('bob');
    const bob = rooms[0]!;
    const saveDir = join(work, 'saved');
    const listener = start(['listen', ...conn, '--name', 'listener', '--save-dir', saveDir]);
    let stdout = '';
    listener.child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    await eventually(() => bob.messaging.getParticipantByName('listener') !== undefined, 15_000, 'listener present');
    const to = bob.messaging.getParticipantByName('listener')!;
    const data = bytes(200 * 1024, 11);
    await bob.messaging.sendMessage({ to, type: 'note', message: { text: 'plain' } });
    await bob.messaging.sendMessage({ to, type: 'file', message: { text: 'with bytes' }, attachment: data });
    await eventually(() => stdout.split('\n').filter(Boolean).length >= 2, 10_000, 'two lines from listen');
    const [first, second] = lines(stdout) as Array<{
      from: { id: string; name: string };
      type: string;
      message: unknown;
      attachment: null | { bytes: number; sha256: string; path: string };
    }>;
    expect(first).to.deep.equal({
      from: { id: bob.localParticipant.id, name: 'bob' },
      type: 'note',
      message: { text: 'plain' },
      attachment: null,
    });
    expect(second!.type).to.equal('file');
    expect(second!.attachment).to.deep.equal({
      bytes: data.byteLength,
      sha256: sha256(data),
      path: join(saveDir, sha256(data)),
    });
    expect(sha256(readFileSync(second!.attachment!.path))).to.equal(sha256(data));

    const removed = nextEvent(bob.messaging, 'participant_removed');
    listener.child.kill('SIGINT');
    const ended = await listener.done;
    expect(ended.code, ended.stderr).to.equal(0);
    const [gone] = (await removed) as [{ name: string }];
    expect(gone.name).to.equal('listener');
  });

  it('listen whose reader goes away (| head -1) leaves the room and exits 0, with no stack trace', async () => {
    const { conn, rooms } = await roomWith('bob');
    const bob = rooms[0]!;
    const listener = start(['listen', ...conn, '--name', 'reader-gone']);
    let stdout = '';
    listener.child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    await eventually(() => bob.messaging.getParticipantByName('reader-gone') !== undefined, 15_000, 'present');
    const to = bob.messaging.getParticipantByName('reader-gone')!;
    await bob.messaging.sendMessage({ to, type: 'note', message: { n: 1 } });
    await eventually(() => stdout.includes('"n":1'), 10_000, 'the first line');
    listener.child.stdout!.destroy(); // the reader has had enough, as head -1 has
    const removed = nextEvent(bob.messaging, 'participant_removed', 10_000);
    await bob.messaging.sendMessage({ to, type: 'note', message: { n: 2 } }).catch(() => {});
    const ended = await listener.done;
    expect(ended.code, ended.stderr).to.equal(0);
    expect(ended.stderr).to.not.match(/EPIPE|at .*\.js:\d+/);
    expect((await removed)[0].name).to.equal('reader-gone');
  });

  it('listen exits 1 with the reason when the server will not take it back (signaling_failed)', async () => {
    // A server of its own, replaced on the same port by one that requires tokens: the rejoin is refused.
    const first = await h.server();
    const room = `cli-${++roomNo}`;
    const listener = start(['listen', '--url', first.url, '--room', room, '--name', 'refused']);
    let stderr = '';
    listener.child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    await eventually(() => stderr.includes('listening in room'), 15_000, 'listening');
    const port = first.port;
    await first.close();
    await h.server({ port, auth: 'jwt', jwtSecret: 'a secret of this test, long enough for HS256' });
    const ended = await listener.done;
    expect(ended.code, ended.stderr).to.equal(1);
    expect(ended.stderr).to.match(/roommesh: .*TokenMissing|roommesh: .*token/i);
  });

  it('SIGINT during a request leaves the room (the others see it go at once) and exits 130', async () => {
    const { conn, rooms } = await roomWith('bob');
    const bob = rooms[0]!;
    let asked!: () => void;
    const askedP = new Promise<void>((r) => (asked = r));
    // A handler that answers only after the test is over: the request is under way when the signal comes.
    bob.messaging.handle('slow', () => {
      asked();
      return new Promise(() => {});
    });
    const cli = start([
      'request',
      ...conn,
      '--to',
      'bob',
      '--type',
      'slow',
      '--timeout-ms',
      '60000',
      '--name',
      'asker',
    ]);
    await askedP;
    const removed = nextEvent(bob.messaging, 'participant_removed', 3000); // a drop is noticed seconds later
    cli.child.kill('SIGINT');
    const ended = await cli.done;
    expect(ended.code, ended.stderr).to.equal(130);
    expect(ended.stderr).to.include('roommesh: interrupted: leaving the room');
    expect((await removed)[0].name).to.equal('asker');
  });

  it('request prints the handler reply and saves its attachment; no handler exits 3, a failing one 1', async () => {
    const { conn, rooms } = await roomWith('bob');
    const bob = rooms[0]!;
    const back = bytes(70_000, 9);
    bob.messaging.handle('ask', (req) => ({ message: { echo: req.message, from: req.from.name }, attachment: back }));
    bob.messaging.handle('fail', () => {
      throw new Error('no can do');
    });
    const saveDir = mkdtempSync(join(tmpdir(), 'roommesh-cli-reply-'));
    const r = await run([
      'request',
      ...conn,
      '--to',
      'bob',
      '--type',
      'ask',
      '--data',
      '{"q":1}',
      '--save-dir',
      saveDir,
      '--json',
      '--name',
      'cli',
    ]);
    expect(r.code, r.stderr).to.equal(0);
    const reply = JSON.parse(r.stdout.trim()) as { message: unknown; attachment: { sha256: string; path: string } };
    expect(reply.message).to.deep.equal({ echo: { q: 1 }, from: 'cli' });
    expect(reply.attachment.sha256).to.equal(sha256(back));
    expect(sha256(readFileSync(reply.attachment.path))).to.equal(sha256(back));
    const none = await run(['request', ...conn, '--to', 'bob', '--type', 'nobody-home', '--data', '{}']);
    expect(none.code).to.equal(3);
    const failed = await run(['request', ...conn, '--to', 'bob', '--type', 'fail', '--data', '{}']);
    expect(failed.code).to.equal(1);
    expect(failed.stderr).to.include('no can do');
  });
});
