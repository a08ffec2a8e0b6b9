// Imports point one way (`npm run imports`, and counted in `npm test`). The layers, bottom to top:
//
//   lib/protocol/        every byte on the wire; imports nothing else of lib/
//   lib/errors.ts, lib/logger.ts, lib/defaults.ts
//                        leaves: error classes, the Logger, options and their defaults; any layer may use them
//   link                 lib/internal/{PeerLink,SignalingClient,webrtc,node-datachannel,TypedEmitter,backoff,random-id}.ts
//   session              lib/internal/{Session,Inbox,Outbox,PendingSends,FrameBatch}.ts
//   (mesh)               dialing and redialing; today inside MessagingClient.ts
//   messaging            lib/{MessagingClient,RemoteParticipant,LocalParticipant,events}.ts: the public API
//   Room                 lib/Room.ts, and the entries lib/index.ts, lib/node.ts
//
// lib/internal/ never imports a public file (anything in lib/ that is not a leaf); signaling/ uses only
// lib/protocol/ from lib/, and lib/ never imports signaling/. No cycles anywhere.
//
// Known violations are listed by path in `known` below, each a warning with a TODO(house), so the check
// passes until they are fixed. Fix one, delete its entry: the rule is then an error for that path too.

const LEAVES = '^lib/(errors|logger|defaults)\\.ts$';
const LINK = '^lib/internal/(PeerLink|SignalingClient|webrtc|node-datachannel|TypedEmitter|backoff|random-id)\\.ts$';
const SESSION = '^lib/internal/(Session|Inbox|Outbox|PendingSends|FrameBatch)\\.ts$';
const MESSAGING = '^lib/(MessagingClient|RemoteParticipant|LocalParticipant|events)\\.ts$';

/**
 * A rule as it should be (severity error) plus, for each known violation `{ from, to, todo }`, the same
 * rule as a warning on exactly that import, and the error rule narrowed so that import is not counted twice.
 */
function rule(name, comment, from, to, known = []) {
  const knownFrom = [...new Set(known.map((k) => k.from))];
  return [
    { name, severity: 'error', comment, from: { ...from, pathNot: [...(from.pathNot ?? []), ...knownFrom] }, to },
    ...knownFrom.map((f) => ({
      name,
      severity: 'error',
      comment,
      from: { ...from, path: f },
      to: { ...to, pathNot: [...(to.pathNot ?? []), ...known.filter((k) => k.from === f).map((k) => k.to)] },
    })),
    ...known.map((k) => ({
      name: `${name}-known`,
      severity: 'warn',
      comment: `TODO(house): ${k.todo}`,
      from: { ...from, path: k.from },
      to: { ...to, path: k.to },
    })),
  ];
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...rule(
      'no-circular',
      'A cycle makes two modules one: neither can be read, tested or changed alone.',
      {},
      { circular: true },
      [
        // TODO(house): events.ts needs MessagingClient's types and MessagingClient emits events.ts's map.
        { from: '^lib/events\\.ts$', to: '^lib/MessagingClient\\.ts$', todo: 'events.ts <-> MessagingClient.ts cycle' },
        { from: '^lib/MessagingClient\\.ts$', to: '^lib/events\\.ts$', todo: 'events.ts <-> MessagingClient.ts cycle' },
        // TODO(house): goes away with Session.ts's import of events.ts (internal-not-public below).
        {
          from: '^lib/internal/Session\\.ts$',
          to: '^lib/events\\.ts$',
          todo: 'Session.ts -> events.ts -> MessagingClient.ts -> Session.ts cycle',
        },
        {
          from: '^lib/MessagingClient\\.ts$',
          to: '^lib/internal/Session\\.ts$',
          todo: 'Session.ts -> events.ts -> MessagingClient.ts -> Session.ts cycle',
        },
      ],
    ),
    ...rule(
      'protocol-is-the-bottom',
      'lib/protocol/ is the wire format, shared with signaling/: it imports nothing else of lib/ or signaling/.',
      { path: '^lib/protocol/' },
      { path: '^(lib|signaling)/', pathNot: '^lib/protocol/' },
    ),
    ...rule(
      'leaves-stay-leaves',
      'errors, logger and defaults are used by every layer, so they import only lib/protocol/ and each other.',
      { path: LEAVES },
      { path: '^lib/', pathNot: [LEAVES, '^lib/protocol/'] },
    ),
    ...rule(
      'internal-not-public',
      'lib/internal/ is below the public API: it never imports a public file of lib/ (only the leaves).',
      { path: '^lib/internal/' },
      { path: '^lib/[^/]+\\.ts$', pathNot: LEAVES },
      [
        // TODO(house): Session.ts takes AttachmentAbortReason and the like from the public events.ts.
        { from: '^lib/internal/Session\\.ts$', to: '^lib/events\\.ts$', todo: 'Session.ts imports events.ts' },
      ],
    ),
    ...rule(
      'link-below-session',
      'A link carries bytes for one peer; it knows nothing of sessions.',
      { path: LINK },
      { path: SESSION },
    ),
    ...rule(
      'messaging-below-room',
      'The messaging API does not know the Room that wires it, nor the entries.',
      { path: MESSAGING },
      { path: '^lib/(Room|index|node)\\.ts$' },
    ),
    ...rule(
      'entries-at-the-top',
      'lib/index.ts and lib/node.ts are for apps; only lib/node.ts re-exports lib/index.ts.',
      { path: '^lib/', pathNot: '^lib/node\\.ts$' },
      { path: '^lib/(index|node)\\.ts$' },
    ),
    ...rule(
      'lib-not-signaling',
      'The library runs in browsers; the server is another program.',
      { path: '^lib/' },
      { path: '^signaling/' },
    ),
    ...rule(
      'signaling-uses-protocol-only',
      'The server shares the wire format with the library, and nothing else.',
      { path: '^signaling/' },
      { path: '^lib/', pathNot: '^lib/protocol/' },
    ),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^dist/', '^test/fixtures/vite-app/', '^test/types/'] },
    // Type-only imports count: a cycle of types is still a cycle for a reader.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
