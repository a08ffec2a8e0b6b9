/**
 * docs/PROTOCOL.md and the code that implements it must agree: the frame table, every constant, every
 * signaling event and every error reason. This reads both and compares.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import * as frames from '../../lib/protocol/frames.js';
import { MAX_JSON_DEPTH } from '../../lib/protocol/json.js';
import * as signaling from '../../lib/protocol/signaling.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const doc = readFileSync(`${ROOT}docs/PROTOCOL.md`, 'utf8');
const framesSource = readFileSync(`${ROOT}lib/protocol/frames.ts`, 'utf8');
const frameTypesSource = readFileSync(`${ROOT}lib/protocol/frame-types.ts`, 'utf8');
const signalingSource = readFileSync(`${ROOT}lib/protocol/signaling.ts`, 'utf8');

/** The `| name | value |` rows of the document's constants table. */
function documentedConstants(): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of doc.matchAll(/^\| `([A-Z_]+)` \| ([^|]+) \|/gm)) out.set(m[1]!, m[2]!.trim());
  return out;
}

/** The member names of an exported interface in signaling.ts. */
function interfaceMembers(name: string): string[] {
  const body = new RegExp(`export interface ${name} \\{([\\s\\S]*?)\\n\\}`).exec(signalingSource)?.[1];
  expect(body, `interface ${name}`).to.be.a('string');
  return [...body!.matchAll(/^ {2}([a-z_]+)(\?)?:/gm)].map((m) => m[1]!);
}

describe('docs/PROTOCOL.md agrees with the code', () => {
  it('has the frame table of lib/protocol/frames.ts, line for line', () => {
    const header = /\/\*\*([\s\S]*?)\*\//.exec(framesSource)![1]!;
    const lines = header.split('\n').map((l) => l.replace(/^ \* ?/, ''));
    const first = lines.findIndex((l) => l.startsWith('  hello'));
    const table = lines.slice(first, lines.indexOf('', first));
    expect(table.length).to.be.above(10);
    const block = /```\n( {2}hello[\s\S]*?)```/.exec(doc)?.[1];
    expect(block, 'frame table block').to.be.a('string');
    expect(block!.trimEnd().split('\n')).to.deep.equal(table);
  });

  it('numbers every frame kind as the code does', () => {
    const names: Record<string, string> = {
      Hello: 'hello',
      Message: 'message',
      Ack: 'ack',
      Attributes: 'attributes',
      Bye: 'bye',
      Ping: 'ping',
      Start: 'start',
      Chunk: 'chunk',
      Cancel: 'cancel',
      Refuse: 'refuse',
      Moved: 'moved',
    };
    expect(Object.keys(frames.FrameKind)).to.have.members(Object.keys(names));
    for (const [kind, number] of Object.entries(frames.FrameKind)) {
      expect(doc, kind).to.match(new RegExp(`^ {2}${names[kind]} +\\[1, ${number}[,\\]]`, 'm'));
    }
  });

  it('gives every protocol constant its value', () => {
    const code: Record<string, number> = {
      SIGNALING_VERSION: signaling.SIGNALING_VERSION,
      FRAME_VERSION: frames.FRAME_VERSION,
      MAX_NAME_LENGTH: signaling.MAX_NAME_LENGTH,
      MAX_SDP_LENGTH: signaling.MAX_SDP_LENGTH,
      MAX_CANDIDATE_LENGTH: signaling.MAX_CANDIDATE_LENGTH,
      MAX_CID_LENGTH: signaling.MAX_CID_LENGTH,
      MAX_RESUME_TOKEN_LENGTH: signaling.MAX_RESUME_TOKEN_LENGTH,
      MAX_RELAY_KEY_LENGTH: signaling.MAX_RELAY_KEY_LENGTH,
      MAX_RELAY_FRAME_BYTES: signaling.MAX_RELAY_FRAME_BYTES,
      MIN_RELAY_FRAME_BYTES: signaling.MIN_RELAY_FRAME_BYTES,
      RELAY_FRAME_COST_BYTES: signaling.RELAY_FRAME_COST_BYTES,
      MAX_FRAME_BYTES: frames.MAX_FRAME_BYTES,
      MIN_FRAME_BYTES: frames.MIN_FRAME_BYTES,
      CHUNK_FRAME_BYTES: frames.CHUNK_FRAME_BYTES,
      CHUNK_OVERHEAD_BYTES: frames.CHUNK_OVERHEAD_BYTES,
      MAX_CONCURRENT_TRANSFERS: frames.MAX_CONCURRENT_TRANSFERS,
      MAX_TYPE_LENGTH: frames.MAX_TYPE_LENGTH,
      MAX_REASON_LENGTH: frames.MAX_REASON_LENGTH,
      MAX_CALL_TEXT_LENGTH: frames.MAX_CALL_TEXT_LENGTH,
      MOVED_PROOF_BYTES: frames.MOVED_PROOF_BYTES,
      MAX_JSON_DEPTH,
      MAX_PROTOCOL_ERRORS: frames.MAX_PROTOCOL_ERRORS,
    };
    const documented = documentedConstants();
    expect([...documented.keys()]).to.have.members(Object.keys(code));
    for (const [name, value] of Object.entries(code)) expect(documented.get(name), name).to.equal(String(value));
  });

  it('describes every signaling event, in both directions, and no other', () => {
    const events = [...interfaceMembers('ClientToServerEvents'), ...interfaceMembers('ServerToClientEvents')];
    expect(events).to.include.members(['join', 'signal', 'peer_enabled']);
    const headings = [...doc.matchAll(/^#### `([a-z_]+)`$/gm)].map((m) => m[1]!);
    expect(headings).to.have.members(events);
  });

  it('explains every signaling error reason, and no other', () => {
    const union = /export type SignalingErrorReason =([\s\S]*?);/.exec(signalingSource)![1]!;
    const reasons = [...union.matchAll(/'([A-Za-z]+)'/g)].map((m) => m[1]!);
    const section = /### Error reasons([\s\S]*?)\n### /.exec(doc)![1]!;
    const documented = [...section.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]!);
    expect(documented).to.have.members(reasons);
  });

  it('names every refuse reason the code sends', () => {
    const union = /export type RefuseReason =([^;]*);/.exec(frameTypesSource)![1]!;
    for (const m of union.matchAll(/'([A-Za-z]+)'/g)) expect(doc).to.include(`\`${m[1]!}\``);
  });
});
