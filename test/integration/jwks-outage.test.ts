/**
 * The server's JWKS keys through a key server's outage, against a real HTTP key server on 127.0.0.1 and
 * jose's own verification, with short timings: past the cache age the last keys stay in use while the key
 * server fails (asked once per cooldown, not per token), a token of an unknown key is a failure of the key
 * server (Unavailable) and not a bad token, the keys the key server gives when it is back replace them at
 * once, and keys past the stale limit are not used.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { errors, exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';
import { remoteKeys, type JwksTimings } from '../../signaling/jwks.js';
import type { ServerLogger } from '../../signaling/options-serving.js';

const TIMINGS: JwksTimings = { timeoutMs: 1000, cooldownMs: 400, cacheMaxAgeMs: 150, staleMaxMs: 2000 };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('JWKS keys through a key server outage', function () {
  this.timeout(20_000);
  let server: Server;
  let url: URL;
  /** What the key server answers: a set of keys, or a status code. */
  let answer: { keys: JWK[] } | number;
  let fetches = 0;
  let k1: { privateKey: CryptoKey; jwk: JWK };
  let k2: { privateKey: CryptoKey; jwk: JWK };
  const warnings: string[] = [];
  const logger: ServerLogger = { debug() {}, info() {}, warn: (_o, msg) => warnings.push(msg ?? ''), error() {} };

  const keyPair = async (kid: string): Promise<{ privateKey: CryptoKey; jwk: JWK }> => {
    const pair = await generateKeyPair('ES256');
    return { privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256' } };
  };
  const token = (key: CryptoKey, kid: string): Promise<string> =>
    new SignJWT({ room: 'r', name: 'n' }).setProtectedHeader({ alg: 'ES256', kid }).setExpirationTime('1h').sign(key);
  /** The outcome of verifying `jwt` with `keys`: 'ok', or the name of jose's error. */
  const verify = async (keys: ReturnType<typeof remoteKeys>, jwt: string): Promise<string> =>
    jwtVerify(jwt, keys, { algorithms: ['ES256'] }).then(
      () => 'ok',
      (e: unknown) => (e as Error).constructor.name,
    );

  before(async () => {
    k1 = await keyPair('k1');
    k2 = await keyPair('k2');
    server = createServer((_req, res) => {
      fetches++;
      if (typeof answer === 'number') res.writeHead(answer).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`);
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  beforeEach(() => {
    answer = { keys: [k1.jwk] };
    fetches = 0;
    warnings.length = 0;
  });

  it('keeps verifying with the last keys while the key server fails, asking it once per cooldown', async () => {
    const keys = remoteKeys(url, TIMINGS, logger);
    const t1 = await token(k1.privateKey, 'k1');
    expect(await verify(keys, t1)).to.equal('ok');
    expect(fetches).to.equal(1);
    answer = 503;
    await sleep(TIMINGS.cacheMaxAgeMs + 50); // jose alone refuses every token from here on
    expect(await verify(keys, t1)).to.equal('ok');
    expect(fetches).to.equal(2);
    for (let i = 0; i < 20; i++) expect(await verify(keys, t1)).to.equal('ok');
    expect(fetches, 'no fetch per token within the cooldown').to.equal(2);
    // A token of a key the last keys lack: the key server's failure, not the token's.
    expect(await verify(keys, await token(k2.privateKey, 'k2'))).to.equal(errors.JWKSTimeout.name);
    await sleep(TIMINGS.cooldownMs + 50);
    expect(await verify(keys, t1)).to.equal('ok');
    expect(fetches, 'asked again after the cooldown').to.equal(3);
    expect(warnings).to.have.length(1);
  });

  it('takes the keys the key server gives when it is back: a key taken out of the set is refused at once', async () => {
    const keys = remoteKeys(url, TIMINGS, logger);
    expect(await verify(keys, await token(k1.privateKey, 'k1'))).to.equal('ok');
    answer = 503;
    await sleep(TIMINGS.cacheMaxAgeMs + 50);
    expect(await verify(keys, await token(k1.privateKey, 'k1'))).to.equal('ok');
    answer = { keys: [k2.jwk] }; // k1 rotated out
    await sleep(TIMINGS.cooldownMs + 50);
    expect(await verify(keys, await token(k2.privateKey, 'k2'))).to.equal('ok');
    expect(await verify(keys, await token(k1.privateKey, 'k1'))).to.equal(errors.JWKSNoMatchingKey.name);
  });

  it('does not use keys older than the stale limit', async () => {
    const keys = remoteKeys(url, TIMINGS, logger);
    const t1 = await token(k1.privateKey, 'k1');
    expect(await verify(keys, t1)).to.equal('ok');
    answer = 503;
    await sleep(TIMINGS.cacheMaxAgeMs + 50);
    expect(await verify(keys, t1)).to.equal('ok');
    await sleep(TIMINGS.staleMaxMs);
    expect(await verify(keys, t1)).to.not.equal('ok');
  });
});
