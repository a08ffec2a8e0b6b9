import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PARTICIPANT = fileURLToPath(new URL('../fixtures/participant.js', import.meta.url));
const TRANSFER = fileURLToPath(new URL('../fixtures/transfer.js', import.meta.url));
const RPC = fileURLToPath(new URL('../fixtures/rpc-participant.js', import.meta.url));

/** A participant running in its own Node process. */
export interface ChildParticipant {
  proc: ChildProcess;
  id: string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<number | NodeJS.Signals>;
}

/** Starts a fixture process and waits until it reports `{ ready: id }` (its messaging is enabled). */
function startFixture(
  fixture: string,
  args: string[],
  name: string,
  env: Record<string, string> = {},
): Promise<ChildParticipant> {
  const proc = fork(fixture, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, ...env } });
  const exited = new Promise<number | NodeJS.Signals>((resolve) =>
    proc.once('exit', (code, signal) => resolve(signal ?? code ?? -1)),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`participant ${name} did not get ready`));
    }, 30_000);
    proc.once('message', (m: { ready?: string }) => {
      clearTimeout(timer);
      if (typeof m.ready === 'string') resolve({ proc, id: m.ready, exited });
      else reject(new Error('unexpected message from child'));
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`participant ${name} exited early with ${code}`));
    });
  });
}

/** Starts an echoing participant process (test/fixtures/participant.ts) and waits until its messaging is enabled. */
export function startChild(
  url: string,
  room: string,
  name: string,
  mode?: '--exit-after-roundtrip',
): Promise<ChildParticipant> {
  return startFixture(PARTICIPANT, mode ? [url, room, name, mode] : [url, room, name], name);
}

/** Starts a participant process that answers requests (test/fixtures/rpc-participant.ts). */
export function startRpcChild(url: string, room: string, name: string): Promise<ChildParticipant> {
  return startFixture(RPC, [url, room, name], name);
}

/**
 * Starts an attachment-sending participant process (test/fixtures/transfer.ts), holding `patterned(bytes, seed)`
 * when `attachment` is given.
 */
export function startTransferChild(
  url: string,
  room: string,
  name: string,
  options: { attachment?: { bytes: number; seed: number }; heartbeatTimeoutMs?: number } = {},
): Promise<ChildParticipant> {
  const extra =
    options.attachment === undefined ? [] : [String(options.attachment.bytes), String(options.attachment.seed)];
  const env: Record<string, string> =
    options.heartbeatTimeoutMs === undefined ? {} : { HEARTBEAT_TIMEOUT_MS: String(options.heartbeatTimeoutMs) };
  return startFixture(TRANSFER, [url, room, name, ...extra], name, env);
}

/** The next IPC message from a child that has `key`, within `timeoutMs`. */
export function nextFromChild<T>(child: Pick<ChildParticipant, 'proc'>, key: string, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.proc.off('message', onMessage);
      reject(new Error(`no ${key} from the child within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (m: Record<string, unknown>): void => {
      if (!(key in m)) return;
      clearTimeout(timer);
      child.proc.off('message', onMessage);
      resolve(m[key] as T);
    };
    child.proc.on('message', onMessage);
  });
}

/** Kills a child if it is still running and waits for it to end. */
export async function stopChild(child: ChildParticipant | undefined): Promise<void> {
  if (child === undefined) return;
  if (child.proc.exitCode === null && child.proc.signalCode === null) {
    child.proc.kill('SIGCONT');
    child.proc.kill('SIGKILL');
  }
  await child.exited;
}
