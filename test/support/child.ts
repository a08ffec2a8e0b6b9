import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../fixtures/participant.js', import.meta.url));

/** A participant running in its own Node process. */
export interface ChildParticipant {
  proc: ChildProcess;
  id: string;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<number | NodeJS.Signals>;
}

/** Starts a participant process and waits until its messaging is enabled. */
export function startChild(url: string, room: string, name: string, mode?: '--exit-after-roundtrip'): Promise<ChildParticipant> {
  const proc = fork(FIXTURE, mode ? [url, room, name, mode] : [url, room, name], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<number | NodeJS.Signals>((resolve) => proc.once('exit', (code, signal) => resolve(signal ?? code ?? -1)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`participant ${name} did not get ready`));
    }, 15_000);
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

/** Kills a child if it is still running and waits for it to end. */
export async function stopChild(child: ChildParticipant | undefined): Promise<void> {
  if (child === undefined) return;
  if (child.proc.exitCode === null && child.proc.signalCode === null) {
    child.proc.kill('SIGCONT');
    child.proc.kill('SIGKILL');
  }
  await child.exited;
}
