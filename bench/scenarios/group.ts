import { TRANSPORT_INFO, type Ops, type TransportId } from '../protocol.js';
import type { ParticipantHandle } from '../runtime/ParticipantRuntime.js';
import type { ScenarioContext } from './types.js';

/** A started, initialised participant. */
export interface Member {
  handle: ParticipantHandle;
  id: string;
}

/** Starts `size` participants of `transport` at once and joins them to a fresh room (messaging not enabled). */
export async function startGroup(
  ctx: ScenarioContext,
  transport: TransportId,
  size: number,
  label: string,
): Promise<Member[]> {
  const room = ctx.nextRoom();
  const runtime = ctx.runtime(TRANSPORT_INFO[transport].host);
  const started = await Promise.allSettled(
    Array.from({ length: size }, (_, i) => runtime.start(`${label}/${transport}/p${i}`)),
  );
  const handles = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    const failed = started.find((s) => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    const timeoutMs = 30_000;
    const inits = await Promise.all(
      handles.map((handle, i) =>
        handle.call(
          'init',
          { transport, urls: ctx.urls, room, name: `p${i}`, roommeshTimeouts: ctx.options.roommeshTimeouts },
          timeoutMs,
        ),
      ),
    );
    return handles.map((handle, i) => ({ handle, id: (inits[i] as { id: string }).id }));
  } catch (err) {
    await Promise.all(handles.map((h) => h.stop()));
    throw err;
  }
}

/** Enables messaging on every member at once; resolves when each sees all the others, with each one's reply. */
export async function enableAll(members: Member[], timeoutMs: number): Promise<Ops['enable'][1][]> {
  return await Promise.all(
    members.map((m) => m.handle.call('enable', { expectedPeers: members.length - 1, timeoutMs }, timeoutMs + 5_000)),
  );
}

/** Stops every member. */
export async function stopGroup(members: Member[]): Promise<void> {
  await Promise.all(members.map((m) => m.handle.stop()));
}

/** How many messages (or bytes) the warm-up before a measurement of `size` sends. */
export function warmupSize(ctx: ScenarioContext, size: number, floor: number): number {
  if (ctx.options.warmupFraction <= 0) return 0;
  return Math.min(size, Math.max(floor, Math.round(size * ctx.options.warmupFraction)));
}
