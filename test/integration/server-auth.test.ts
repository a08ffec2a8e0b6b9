/**
 * JWT auth of joins against a real server: a missing, expired, wrong-audience, wrong-issuer, wrong-room
 * or forged token is refused with a typed reason; the name and the optional fixed id come from the
 * token; a JWKS served over HTTP on 127.0.0.1 verifies asymmetric tokens; `roommesh-signal token` mints
 * a token the server takes.
 */
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import { ConnectionError, Room, silentLogger } from '../../lib/node.js';
import { SIGNALING_VERSION } from '../../lib/protocol/signaling.js';
import type { SignalingServer, SignalingServerOptions } from '../../signaling/server.js';
import { Harness } from '../support/harness.js';
import { freePort } from '../support/processes.js';
import { ack, closeRawClients, rawConnect, record, type WireReply } from '../support/raw-client.js';

const SECRET = 'test-secret-that-is-long-enough-for-hs256!';
const nowS = (): number => Math.floor(Date.now() / 1000);

/** Signs `claims` with HS256 and SECRET unless told otherwise; exp defaults to in an hour, aud to roommesh. */
async function hs(
  claims: JWTPayload,
  o: { secret?: string; alg?: string; expS?: number | null; aud?: string | null; iss?: string } = {},
): Promise<string> {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: o.alg ?? 'HS256' }).setIssuedAt();
  if (o.expS !== null) jwt = jwt.setExpirationTime(o.expS ?? nowS() + 3600);
  if (o.aud !== null) jwt = jwt.setAudience(o.aud ?? 'roommesh');
  if (o.iss !== undefined) jwt = jwt.setIssuer(o.iss);
  return jwt.sign(new TextEncoder().encode(o.secret ?? SECRET));
}

describe('signaling server auth (JWT)', function () {
  this.timeout(20_000);
  const h = new Harness();
  let server: SignalingServer;

  const start = async (o: SignalingServerOptions): Promise<SignalingServer> => {
    return h.server({ joinsPerSecondPerIp: 0, ...o });
  };
  const joinWith = async (s: SignalingServer, req: Record<string, unknown>): Promise<WireReply> => {
    return ack(await rawConnect(s.url), 'join', { v: SIGNALING_VERSION, name: 'client-says', ...req });
  };
  const refused = (r: WireReply, reason: string): void => {
    expect(r.ok, JSON.stringify(r)).to.equal(false);
    expect(r.error?.reason).to.equal(reason);
    expect(r.error?.message).to.be.a('string').that.is.not.empty;
  };

  before(async () => {
    server = await start({ auth: 'jwt', jwtSecret: SECRET });
  });
  afterEach(() => {
    closeRawClients();
  });
  after(async () => {
    await h.close();
  });

  it("a valid token joins its room under the name and the server-assigned id it gives; the client's name is ignored", async () => {
    const r = await joinWith(server, { room: 'r1', token: await hs({ room: 'r1', name: 'alice' }) });
    expect(r.ok, JSON.stringify(r)).to.equal(true);
    expect(r.data.self.name).to.equal('alice');
    expect(r.data.self.id)
      .to.be.a('string')
      .that.matches(/^~[0-9a-f-]{36}$/); // a form no pid can take
  });

  it('resume tokens expire no later than the JWT the participant joined with, however often it resumes', async () => {
    const jwtExpS = nowS() + 3;
    const joined = await joinWith(server, {
      room: 'r1',
      token: await hs({ room: 'r1', name: 'alice' }, { expS: jwtExpS }),
    });
    expect(joined.ok, JSON.stringify(joined)).to.equal(true);
    const resumeWith = async (token: string): Promise<WireReply> => {
      return ack(await rawConnect(server.url), 'resume', { v: SIGNALING_VERSION, token, messagingEnabled: false });
    };
    const first = joined.data.resumeToken as string;
    expect(decodeJwt(first).exp).to.be.at.most(jwtExpS);
    const resumed = await resumeWith(first);
    expect(resumed.ok, JSON.stringify(resumed)).to.equal(true);
    expect(decodeJwt(resumed.data.resumeToken as string).exp, 'the fresh token of a resume').to.be.at.most(jwtExpS);
    await new Promise((r) => setTimeout(r, (jwtExpS + 1) * 1000 - Date.now()));
    expect((await resumeWith(resumed.data.resumeToken as string)).error?.reason).to.equal('ResumeInvalid');
  });

  it('a missing token is refused with TokenMissing, also through the library', async () => {
    refused(await joinWith(server, { room: 'r1' }), 'TokenMissing');
    const err = await Room.connect({ url: server.url, room: 'r1', name: 'alice', logger: silentLogger }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).to.be.instanceOf(ConnectionError);
    expect((err as ConnectionError).reason).to.equal('Refused');
    expect((err as ConnectionError).serverReason).to.equal('TokenMissing');
  });

  it('an expired token is refused with TokenExpired; one expired within the clock tolerance is accepted', async () => {
    refused(
      await joinWith(server, { room: 'r1', token: await hs({ room: 'r1', name: 'a' }, { expS: nowS() - 60 }) }),
      'TokenExpired',
    );
    const justExpired = await hs({ room: 'r1', name: 'a' }, { expS: nowS() - 2 });
    expect((await joinWith(server, { room: 'r1', token: justExpired })).ok).to.equal(true); // default tolerance 5 s
    const strict = await start({ auth: 'jwt', jwtSecret: SECRET, jwtClockToleranceMs: 0 });
    refused(await joinWith(strict, { room: 'r1', token: justExpired }), 'TokenExpired');
  });

  it('a token without exp is refused with TokenInvalid', async () => {
    refused(
      await joinWith(server, { room: 'r1', token: await hs({ room: 'r1', name: 'a' }, { expS: null }) }),
      'TokenInvalid',
    );
  });

  it('a token for another audience, or none, is refused with TokenInvalid; a server with its own audience takes its tokens', async () => {
    refused(
      await joinWith(server, { room: 'r1', token: await hs({ room: 'r1', name: 'a' }, { aud: 'someone-else' }) }),
      'TokenInvalid',
    );
    refused(
      await joinWith(server, { room: 'r1', token: await hs({ room: 'r1', name: 'a' }, { aud: null }) }),
      'TokenInvalid',
    );
    const custom = await start({ auth: 'jwt', jwtSecret: SECRET, jwtAudience: 'my-app' });
    expect(
      (await joinWith(custom, { room: 'r1', token: await hs({ room: 'r1', name: 'a' }, { aud: 'my-app' }) })).ok,
    ).to.equal(true);
    refused(await joinWith(custom, { room: 'r1', token: await hs({ room: 'r1', name: 'a' }) }), 'TokenInvalid');
  });

  it('with jwtIssuer, a token from another issuer or none is refused', async () => {
    const s = await start({ auth: 'jwt', jwtSecret: SECRET, jwtIssuer: 'https://auth.example' });
    expect(
      (await joinWith(s, { room: 'r1', token: await hs({ room: 'r1', name: 'a' }, { iss: 'https://auth.example' }) }))
        .ok,
    ).to.equal(true);
    refused(
      await joinWith(s, { room: 'r1', token: await hs({ room: 'r1', name: 'a' }, { iss: 'https://evil.example' }) }),
      'TokenInvalid',
    );
    refused(await joinWith(s, { room: 'r1', token: await hs({ room: 'r1', name: 'a' }) }), 'TokenInvalid');
  });

  it('a token for room A cannot join room B (RoomNotAllowed); rooms lists several; allRooms: true allows any', async () => {
    refused(await joinWith(server, { room: 'B', token: await hs({ room: 'A', name: 'a' }) }), 'RoomNotAllowed');
    const several = await hs({ rooms: ['A', 'C'], name: 'a' });
    expect((await joinWith(server, { room: 'C', token: several })).ok).to.equal(true);
    refused(await joinWith(server, { room: 'B', token: several }), 'RoomNotAllowed');
    expect((await joinWith(server, { room: 'anything', token: await hs({ allRooms: true, name: 'a' }) })).ok).to.equal(
      true,
    );
    refused(await joinWith(server, { room: 'A', token: await hs({ allRooms: 'yes', name: 'a' }) }), 'TokenInvalid');
    refused(await joinWith(server, { room: 'A', token: await hs({ allRooms: false, name: 'a' }) }), 'TokenInvalid');
    // Claims that do not name a room or a name are invalid, not "any room".
    refused(await joinWith(server, { room: 'A', token: await hs({ name: 'a' }) }), 'TokenInvalid');
    refused(await joinWith(server, { room: 'A', token: await hs({ room: 'A' }) }), 'TokenInvalid');
    refused(await joinWith(server, { room: 'A', token: await hs({ room: 'A', name: 42 }) }), 'TokenInvalid');
  });

  it('"*" is not a wildcard: a token with room or rooms "*" is refused, and nobody joins a room named "*"', async () => {
    // An app that copies a user-chosen room name into the room claim must not hand out every room.
    for (const claims of [{ room: '*' }, { rooms: ['*'] }, { rooms: ['A', '*'] }, { rooms: '*' }]) {
      const r = await joinWith(server, { room: 'anything', token: await hs({ ...claims, name: 'a' }) });
      refused(r, 'TokenInvalid');
      expect(r.error?.message, JSON.stringify(claims)).to.match(/allRooms/);
    }
    refused(await joinWith(server, { room: '*', token: await hs({ allRooms: true, name: 'a' }) }), 'BadRequest');
  });

  it('forged tokens are refused with TokenInvalid: another secret, alg none, an algorithm not allowed, a swapped payload, garbage', async () => {
    refused(
      await joinWith(server, {
        room: 'r1',
        token: await hs({ room: 'r1', name: 'a' }, { secret: 'another-secret-also-long-enough-for-hs256' }),
      }),
      'TokenInvalid',
    );
    const none = new UnsecuredJWT({ room: 'r1', name: 'a' }).setAudience('roommesh').setExpirationTime('1h').encode();
    refused(await joinWith(server, { room: 'r1', token: none }), 'TokenInvalid');
    refused(
      await joinWith(server, { room: 'r1', token: await hs({ room: 'r1', name: 'a' }, { alg: 'HS512' }) }),
      'TokenInvalid',
    );
    const [h, , sig] = (await hs({ room: 'r1', name: 'alice' })).split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ room: 'r1', name: 'admin', aud: 'roommesh', exp: nowS() + 3600 }),
    ).toString('base64url');
    refused(await joinWith(server, { room: 'r1', token: `${h}.${forgedPayload}.${sig}` }), 'TokenInvalid');
    for (const junk of ['x', 'a.b.c', '....', 'ey'.repeat(2000)])
      refused(await joinWith(server, { room: 'r1', token: junk }), 'TokenInvalid');
    expect(server.stats().participants).to.be.at.most(10); // only the accepted joins of earlier tests
  });

  it('jwtAlgorithms: a server that accepts only HS512 refuses HS256 tokens', async () => {
    const s = await start({ auth: 'jwt', jwtSecret: SECRET, jwtAlgorithms: ['HS512'] });
    expect(
      (await joinWith(s, { room: 'r1', token: await hs({ room: 'r1', name: 'a' }, { alg: 'HS512' }) })).ok,
    ).to.equal(true);
    refused(await joinWith(s, { room: 'r1', token: await hs({ room: 'r1', name: 'a' }) }), 'TokenInvalid');
  });

  it('a pid claim fixes the participant id; a second join with the same pid in that room is refused with IdInUse', async () => {
    const token = await hs({ rooms: ['p1', 'p2'], name: 'alice', pid: 'user-42' });
    const first = await joinWith(server, { room: 'p1', token });
    expect(first.data.self.id).to.equal('user-42');
    refused(await joinWith(server, { room: 'p1', token }), 'IdInUse');
    expect((await joinWith(server, { room: 'p2', token })).data.self.id).to.equal('user-42'); // another room: fine
    refused(
      await joinWith(server, { room: 'p1', token: await hs({ room: 'p1', name: 'a', pid: 'bad id\nwith newline' }) }),
      'TokenInvalid',
    );
  });

  it('a pid in two rooms hears each room on its own connection only; a token cannot name a generated id', async () => {
    const token = await hs({ rooms: ['scope-a', 'scope-b'], name: 'alice', pid: 'user-7' });
    const sockA = await rawConnect(server.url);
    const sockB = await rawConnect(server.url);
    expect((await ack(sockA, 'join', { v: SIGNALING_VERSION, name: 'x', room: 'scope-a', token })).ok).to.equal(true);
    expect((await ack(sockB, 'join', { v: SIGNALING_VERSION, name: 'x', room: 'scope-b', token })).ok).to.equal(true);
    for (const s of [sockA, sockB]) expect((await ack(s, 'enable_messaging')).ok).to.equal(true);
    const heardA = record<{ id: string }>(sockA, 'peer_enabled');
    const heardB = record<{ id: string }>(sockB, 'peer_enabled');
    const signalsA = record<unknown>(sockA, 'signal');
    const signalsB = record<unknown>(sockB, 'signal');
    // Bob, in room A only, enables and sends user-7 an offer.
    const bob = await rawConnect(server.url);
    const joined = await ack(bob, 'join', {
      v: SIGNALING_VERSION,
      name: 'x',
      room: 'scope-a',
      token: await hs({ room: 'scope-a', name: 'bob' }),
    });
    expect((await ack(bob, 'enable_messaging')).ok).to.equal(true);
    expect((await ack(bob, 'signal', { to: 'user-7', cid: 'c', data: { type: 'offer', sdp: 'v=0\r\n' } })).ok).to.equal(
      true,
    );
    // A reply on each connection comes after everything sent to it before.
    for (const s of [sockA, sockB]) await ack(s, 'enable_messaging');
    expect(heardA.map((p) => p.id)).to.deep.equal([joined.data.self.id]);
    expect(signalsA).to.have.length(1);
    expect(heardB, 'room B heard room A').to.deep.equal([]);
    expect(signalsB, "room B got room A's offer").to.deep.equal([]);
    // Bob's id is generated: no token may claim it, in his room or any other.
    refused(
      await joinWith(server, {
        room: 'scope-a',
        token: await hs({ room: 'scope-a', name: 'eve', pid: joined.data.self.id }),
      }),
      'TokenInvalid',
    );
    closeRawClients();
  });

  it('Room.connect with a token: the participant is named by the token', async () => {
    const room = await Room.connect({
      url: server.url,
      room: 'lib',
      name: 'mallory',
      token: await hs({ room: 'lib', name: 'alice' }),
      logger: silentLogger,
    });
    try {
      expect(room.localParticipant.name).to.equal('alice');
    } finally {
      await room.disconnect();
    }
  });

  describe('with a JWKS URL', () => {
    let jwks: HttpServer;
    let jwksUrl: string;
    let privateKey: CryptoKey;
    let otherKey: CryptoKey;
    let fetches = 0;

    before(async () => {
      const pair = await generateKeyPair('ES256');
      privateKey = pair.privateKey;
      otherKey = (await generateKeyPair('ES256')).privateKey;
      const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
      jwks = createServer((req, res) => {
        fetches++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
      });
      await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', () => r()));
      jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    });
    after(async () => {
      jwks.closeAllConnections();
      await new Promise((r) => jwks.close(r));
    });

    const es = (claims: JWTPayload, key: CryptoKey, kid = 'k1'): Promise<string> =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid })
        .setAudience('roommesh')
        .setExpirationTime('1h')
        .sign(key);

    it('verifies tokens signed by a key of the set, and refuses others', async () => {
      const s = await start({ auth: 'jwt', jwksUrl });
      const ok = await joinWith(s, { room: 'j', token: await es({ room: 'j', name: 'alice' }, privateKey) });
      expect(ok.ok, JSON.stringify(ok)).to.equal(true);
      expect(ok.data.self.name).to.equal('alice');
      expect(fetches).to.be.greaterThan(0);
      refused(await joinWith(s, { room: 'j', token: await es({ room: 'j', name: 'a' }, otherKey) }), 'TokenInvalid'); // same kid, wrong key
      refused(
        await joinWith(s, { room: 'j', token: await es({ room: 'j', name: 'a' }, otherKey, 'k2') }),
        'TokenInvalid',
      ); // unknown kid
      // An HS256 token signed with the public key's bytes (algorithm confusion) is refused.
      refused(await joinWith(s, { room: 'j', token: await hs({ room: 'j', name: 'a' }) }), 'TokenInvalid');
    });

    it('an unreachable key set gives Unavailable, not a client error', async () => {
      const s = await start({ auth: 'jwt', jwksUrl: `http://127.0.0.1:${await freePort()}/jwks.json` });
      refused(await joinWith(s, { room: 'j', token: await es({ room: 'j', name: 'a' }, privateKey) }), 'Unavailable');
    });
  });

  it('roommesh-signal token mints a token the server accepts', async () => {
    const cli = fileURLToPath(new URL('../../signaling/cli.js', import.meta.url));
    const r = spawnSync(
      process.execPath,
      [cli, 'token', '--room', 'cli-room', '--name', 'carol', '--secret', SECRET, '--pid', 'carol-1'],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).to.equal(0);
    const token = r.stdout.trim();
    expect(token.split('.')).to.have.length(3);
    const joined = await joinWith(server, { room: 'cli-room', token });
    expect(joined.data.self).to.deep.include({ name: 'carol', id: 'carol-1' });
    refused(await joinWith(server, { room: 'other', token }), 'RoomNotAllowed');
    const bad = spawnSync(process.execPath, [cli, 'token', '--room', 'r', '--name', 'n', '--secret', 'short'], {
      encoding: 'utf8',
    });
    expect(bad.status).to.equal(2);
    expect(bad.stderr).to.match(/32 bytes/);
    // A token it mints always works at join: what join would refuse is refused here.
    for (const [args, pattern] of [
      [['--pid', '~x'], /pid is 1 to 128 letters/],
      [['--pid', 'p'.repeat(129)], /pid is 1 to 128 letters/],
      [['--name', 'n'.repeat(129)], /name is 1 to 128 UTF-16 code units/],
      [['--name', '   '], /name is 1 to 128 UTF-16 code units/],
      [['--room', 'r'.repeat(129)], /every room is 1 to 128 UTF-16 code units/],
    ] as Array<[string[], RegExp]>) {
      const minted = spawnSync(
        process.execPath,
        [cli, 'token', '--room', 'r', '--name', 'n', '--secret', SECRET, ...args],
        { encoding: 'utf8' },
      );
      expect(minted.status, `${args.join(' ')}: ${minted.stdout}`).to.equal(2);
      expect(minted.stdout).to.equal('');
      expect(minted.stderr).to.match(pattern);
    }
  });

  it("roommesh-signal token refuses --room '*' and points to --all-rooms, which mints a token for every room", async () => {
    const cli = fileURLToPath(new URL('../../signaling/cli.js', import.meta.url));
    const mint = (...args: string[]) =>
      spawnSync(process.execPath, [cli, 'token', '--name', 'dave', '--secret', SECRET, ...args], { encoding: 'utf8' });
    for (const rooms of [
      ['--room', '*'],
      ['--room', 'a', '--room', '*'],
    ]) {
      const star = mint(...rooms);
      expect(star.status, star.stdout).to.equal(2);
      expect(star.stdout).to.equal('');
      expect(star.stderr).to.match(/--all-rooms/);
    }
    expect(mint('--all-rooms', '--room', 'a').status).to.equal(2);
    const all = mint('--all-rooms');
    expect(all.status, all.stderr).to.equal(0);
    const token = all.stdout.trim();
    expect(decodeJwt(token)).to.deep.include({ allRooms: true, name: 'dave' });
    expect((await joinWith(server, { room: 'any-room-at-all', token })).data.self.name).to.equal('dave');
  });
});
