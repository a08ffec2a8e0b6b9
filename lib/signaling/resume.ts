/** Getting back on the signaling server after the connection dropped: resume, or join again; and when to stop trying. */
import { ConnectionError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { JoinReply, JoinRequest, ResumeReply } from '../protocol/signaling.js';
import { SIGNALING_VERSION } from '../protocol/signaling.js';
import type { EmitRequest } from './socket.js';

/**
 * Refusals after which trying again cannot help: the server will not take this participant back, not even
 * as a new one. (`ResumeInvalid` is not among them: the client then joins again under a new id.)
 */
const FINAL_REFUSALS = new Set([
  'UnsupportedVersion',
  'TokenMissing',
  'TokenInvalid',
  'TokenExpired',
  'IdInUse',
  'RoomFull',
  'BadRequest',
  'OriginNotAllowed',
  'AlreadyJoined',
]);

/** Whether `error` ends reconnecting: the server will not take this participant back, not even as a new one. @internal */
export function isFinalRefusal(error: ConnectionError): boolean {
  return error.reason === 'Refused' && FINAL_REFUSALS.has(String(error.serverReason));
}

/** How a reconnection got back on the server: under the same id, or as a new participant. @internal */
export type Comeback =
  { kind: 'resumed'; reply: ResumeReply } | { kind: 'rejoined'; reply: JoinReply & { resumeToken: string } };

/** What {@link resumeOrRejoin} works with. @internal */
export interface ComebackDeps {
  /** The latest resume token. */
  token: string;
  /** The first join request, sent again to re-join as a new participant; undefined: never joined. */
  joinRequest: JoinRequest | undefined;
  /** Whether messaging is (being) enabled, told to the server on resume. */
  messagingEnabled: boolean;
  /** Sends one request on the new socket and resolves with the data of the server's reply. */
  request: <T>(what: string, send: EmitRequest<T>) => Promise<T>;
  logger: Logger;
}

/**
 * Resumes with the latest token; when the server refuses the token as `ResumeInvalid` (it does not know this
 * participant: restarted without a shared secret), joins again on the same socket.
 * @internal
 */
export async function resumeOrRejoin(deps: ComebackDeps): Promise<Comeback> {
  const joinReq = deps.joinRequest;
  const req = {
    v: SIGNALING_VERSION,
    token: deps.token,
    messagingEnabled: deps.messagingEnabled,
    ...(joinReq?.relayKey === undefined ? {} : { relayKey: joinReq.relayKey }),
  };
  try {
    return {
      kind: 'resumed',
      reply: await deps.request<ResumeReply>('resume', (s, ack) => s.emit('resume', req, ack)),
    };
  } catch (err) {
    if (!(err instanceof ConnectionError) || err.serverReason !== 'ResumeInvalid' || joinReq === undefined) throw err;
  }
  deps.logger.info({}, 'the signaling server no longer knows this participant: joining again as a new one');
  const reply = await deps.request<JoinReply>('join', (s, ack) => s.emit('join', joinReq, ack));
  if (typeof reply.resumeToken !== 'string') throw ConnectionError.refused('join', 'BadReply', 'no resume token');
  return { kind: 'rejoined', reply: { ...reply, resumeToken: reply.resumeToken } };
}
