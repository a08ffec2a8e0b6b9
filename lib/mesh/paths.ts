/** The paths a pair's messages may take, and the state of the path one participant's messages take now. */

/**
 * Which paths the mesh uses to reach each participant:
 * - `relay-first`: through the signaling server's relay at once (present within a round trip to the
 *   server), while a direct data channel connects in the background; the pair moves onto it when it opens,
 *   and stays relayed, trying direct again with backoff, when it does not;
 * - `direct-first`: a direct data channel, and the relay only when a direct attempt failed;
 * - `direct`: direct data channels only (the relay is never used);
 * - `relay`: the relay only (networks that block UDP): this side neither dials nor answers a direct channel.
 * A server that does not relay (`--no-relay`), or a participant that gave no relay key, means `direct`
 * for the pairs it concerns.
 */
export type PathPolicy = 'relay-first' | 'direct-first' | 'direct' | 'relay';

/** Every {@link PathPolicy}, for checking options. */
export const PATH_POLICIES: readonly PathPolicy[] = Object.freeze(['relay-first', 'direct-first', 'direct', 'relay']);

/**
 * How a participant's messages travel now:
 * - `connecting`: no path yet (not present yet);
 * - `direct`: over a direct data channel;
 * - `relayed`: through the signaling server, sealed end to end;
 * - `reconnecting`: the path it had broke and a new one is being set up; messages wait, and nothing sent
 *   is lost if one comes back within `relinkGraceMs` (else the participant is removed).
 */
export type LinkState = 'connecting' | 'direct' | 'relayed' | 'reconnecting';
