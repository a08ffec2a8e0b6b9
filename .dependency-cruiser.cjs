// Imports point one way (`npm run imports`, and counted in `npm test`). The layers, bottom to top:
//
//   lib/protocol/        every byte on the wire; imports nothing else of lib/
//   leaves               lib/{errors,logger,defaults}.ts and lib/util/: error classes, the Logger, timings and
//                        limits with their defaults, small helpers; any layer may use them
//   link                 lib/link/: one channel to one peer (the Link seam, WebRTC), and lib/signaling/: the
//                        connection to the signaling server
//   session              lib/session/: the messaging protocol over one link
//   mesh                 lib/mesh/: a session to every participant; dialing and redialing
//   messaging            lib/{MessagingClient,RemoteParticipant,LocalParticipant,events,types,send-options}.ts,
//                        lib/messaging/: presence, incoming messages, broadcast, and lib/requests/: request and
//                        reply bookkeeping
//   Room                 lib/{Room,options,messaging-stack,rehearsal}.ts (the room, its options, how it builds its mesh and
//                        messaging, and their rehearsal), and the entries lib/index.ts, lib/node.ts
//   react                bindings/react/: the roommesh/react entry; uses the public entry lib/index.ts only (it imports
//                        'roommesh', the package's own name), and nothing in lib/ imports it
//
// A layer imports only the layers below it. signaling/ uses only lib/protocol/ (and the token bucket) from lib/, and lib/
// never imports signaling/. cli/ (the `roommesh` command) is an app: it uses lib/ through its public
// entries (lib/node.ts, lib/index.ts) only, and nothing imports cli/. No cycles anywhere.
//
// A known violation can be listed by path in a rule's `known`, as a warning with a TODO, so the check
// passes until it is fixed; today there are none.

const PROTOCOL = '^lib/protocol/';
const LEAVES = ['^lib/(errors|logger|defaults)\\.ts$', '^lib/util/'];
const LINK = ['^lib/link/', '^lib/signaling/'];
const SESSION = ['^lib/session/'];
const MESH = ['^lib/mesh/'];
const MESSAGING = [
  '^lib/(MessagingClient|RemoteParticipant|LocalParticipant|events|types|send-options)\\.ts$',
  '^lib/messaging/',
  '^lib/requests/',
];
const ROOM = ['^lib/(Room|options|messaging-stack|rehearsal|index|node)\\.ts$'];

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
    ),
    ...rule(
      'protocol-is-the-bottom',
      'lib/protocol/ is the wire format, shared with signaling/: it imports nothing else of lib/ or signaling/.',
      { path: PROTOCOL },
      { path: '^(lib|signaling)/', pathNot: PROTOCOL },
    ),
    ...rule(
      'leaves-stay-leaves',
      'errors, logger, defaults and util/ are used by every layer, so they import only lib/protocol/ and each other.',
      { path: LEAVES },
      { path: '^lib/', pathNot: [...LEAVES, PROTOCOL] },
    ),
    ...rule(
      'link-below-session',
      'A link carries bytes for one peer, and the signaling client talks to the server: neither knows sessions.',
      { path: LINK },
      { path: [...SESSION, ...MESH, ...MESSAGING, ...ROOM] },
    ),
    ...rule(
      'session-below-mesh',
      "A session runs the protocol over the link it is given; who dials whom is the mesh's.",
      { path: SESSION },
      { path: [...MESH, ...MESSAGING, ...ROOM, '^lib/signaling/'] },
    ),
    ...rule(
      'mesh-below-messaging',
      'The mesh keeps connections; the public API above it is not its business.',
      { path: MESH },
      { path: [...MESSAGING, ...ROOM, '^lib/signaling/'] },
    ),
    ...rule(
      'messaging-below-room',
      'The messaging API does not know the Room that wires it, nor the entries, nor the links under the mesh.',
      { path: MESSAGING },
      { path: [...ROOM, ...LINK] },
    ),
    ...rule(
      'entries-at-the-top',
      'lib/index.ts and lib/node.ts are for apps; only lib/node.ts re-exports lib/index.ts.',
      { path: '^lib/', pathNot: '^lib/node\\.ts$' },
      { path: '^lib/(index|node)\\.ts$' },
    ),
    ...rule(
      'react-uses-the-public-entry',
      'The React bindings are an app of the library: they see what apps see, lib/index.ts, and nothing of the server.',
      { path: '^bindings/' },
      { path: '^(lib|signaling|test|bench)/', pathNot: '^lib/index\\.ts$' },
    ),
    ...rule(
      'nothing-imports-react',
      'React is an optional peer: the library, the server and the tests of either must not need it.',
      { path: '^(lib|signaling)/' },
      { path: '^bindings/' },
    ),
    ...rule(
      'lib-not-signaling',
      'The library runs in browsers; the server is another program.',
      { path: '^lib/' },
      { path: '^signaling/' },
    ),
    ...rule(
      'cli-uses-the-public-entry',
      'The command line is an app of the library: what it needs, an app can do with the public API.',
      { path: '^cli/' },
      { path: ['^lib/', '^signaling/'], pathNot: '^lib/(node|index)\\.ts$' },
    ),
    ...rule(
      'nothing-imports-cli',
      'cli/ is a program on top of everything; the library, the server and the tests do not build on it.',
      { path: '^(lib|signaling|bench|scripts)/' },
      { path: '^cli/' },
    ),
    ...rule(
      'signaling-uses-protocol-only',
      'The server shares the wire format with the library, and the token bucket (limits there, pacing here).',
      { path: '^signaling/' },
      { path: '^lib/', pathNot: ['^lib/protocol/', '^lib/util/token-bucket\\.ts$'] },
    ),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['^dist/', '^test/fixtures/vite-app/', '^test/fixtures/react-app/', '^test/types/'] },
    // Type-only imports count: a cycle of types is still a cycle for a reader.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs', '.json'] },
  },
};
