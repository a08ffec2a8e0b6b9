import { expect } from 'chai';
import { nodeRelayAead } from '../../lib/link/node-relay-aead.js';
import { nodeRelayKdf } from '../../lib/link/node-relay-kdf.js';
import {
  deriveRelayCiphers,
  fromBase64Url,
  generateRelayKeyPair,
  movedProof,
  toBase64Url,
  webCryptoAead,
  webCryptoKdf,
  type RelayAeadFactory,
  type RelayCiphers,
  type RelayKdf,
  type RelayKeyPair,
} from '../../lib/link/relay-crypto.js';

const text = new TextEncoder();
const salt = new Uint8Array(32).fill(7);
const aad = new Uint8Array([3, 1, 2]);

/** What each side runs: WebCrypto (browsers), node:crypto (the Node entry), and one of each. */
type Suite = [RelayAeadFactory, RelayKdf];
const WEB: Suite = [webCryptoAead, webCryptoKdf];
const NODE: Suite = [nodeRelayAead, nodeRelayKdf];
const SUITES: Array<[string, Suite, Suite]> = [
  ['WebCrypto', WEB, WEB],
  ['node:crypto', NODE, NODE],
  ['alice on node:crypto, bob on WebCrypto', NODE, WEB],
];

for (const [label, [aeadA, kdfA], [aeadB, kdfB]] of SUITES) {
  /** Alice's and Bob's ciphers for one link. */
  async function pair(linkSalt = salt): Promise<[RelayCiphers, RelayCiphers]> {
    const [a, b] = await Promise.all([kdfA.generateKeyPair(), kdfB.generateKeyPair()]);
    return Promise.all([
      deriveRelayCiphers(a, b.publicKey, 'alice', 'bob', linkSalt, aeadA, kdfA),
      deriveRelayCiphers(b, a.publicKey, 'bob', 'alice', linkSalt, aeadB, kdfB),
    ]);
  }

  describe(`relay crypto (ECDH P-256, HKDF, AES-GCM with counter nonces): ${label}`, () => {
    it('a public key is 87 base64url characters, and base64url round-trips', async () => {
      for (const k of await Promise.all([kdfA.generateKeyPair(), kdfB.generateKeyPair()]))
        expect(k.publicKey).to.match(/^[A-Za-z0-9_-]{87}$/);
      const bytes = Uint8Array.from({ length: 300 }, (_, i) => i % 256);
      expect(fromBase64Url(toBase64Url(bytes))).to.deep.equal(bytes);
      expect(fromBase64Url('a+b')).to.equal(undefined);
    });

    it('round trip: each side opens what the other sealed, in both directions, and the ciphertext hides it', async () => {
      const [alice, bob] = await pair();
      for (let i = 0; i < 5; i++) {
        const m = text.encode(`hello ${i}`);
        const s = await alice.sealer.seal(m, aad);
        expect(s.counter).to.equal(i);
        expect(s.ciphertext.byteLength).to.equal(m.byteLength + 16);
        expect(Buffer.from(s.ciphertext).includes(Buffer.from('hello'))).to.equal(false);
        expect(await bob.opener.open(s.counter, s.ciphertext, aad)).to.deep.equal(m);
      }
      const back = await bob.sealer.seal(text.encode('reply'), aad);
      expect(await alice.opener.open(back.counter, back.ciphertext, aad)).to.deep.equal(text.encode('reply'));
    });

    it('headroom: the ciphertext comes after the bytes asked for, which the caller fills (a frame header)', async () => {
      const [alice, bob] = await pair();
      for (const [size, headroom] of [
        [10, 25],
        [64 * 1024, 25],
        [3000, 1],
      ] as const) {
        const m = Uint8Array.from({ length: size }, (_, i) => (i * 7) & 0xff);
        const s = await alice.sealer.seal(m, aad, headroom);
        expect(s.ciphertext.byteLength).to.equal(headroom + size + 16);
        s.ciphertext.fill(0xee, 0, headroom); // what the caller writes there does not matter to the seal
        expect(await bob.opener.open(s.counter, s.ciphertext.subarray(headroom), aad)).to.deep.equal(m);
      }
    });

    it('tamper: a flipped ciphertext bit, or other associated data, is refused; the real frame still opens', async () => {
      const [alice, bob] = await pair();
      const s = await alice.sealer.seal(text.encode('pay 10'), aad);
      const flipped = s.ciphertext.slice();
      flipped[2] = (flipped[2] as number) ^ 1;
      expect(await bob.opener.open(s.counter, flipped, aad)).to.equal('BadSeal');
      expect(await bob.opener.open(s.counter, s.ciphertext, new Uint8Array([3, 1, 3]))).to.equal('BadSeal');
      expect(await bob.opener.open(s.counter, s.ciphertext, aad)).to.deep.equal(text.encode('pay 10'));
    });

    it('replay and reorder are refused: only the next counter opens', async () => {
      const [alice, bob] = await pair();
      const f0 = await alice.sealer.seal(text.encode('0'), aad);
      const f1 = await alice.sealer.seal(text.encode('1'), aad);
      expect(await bob.opener.open(f1.counter, f1.ciphertext, aad)).to.equal('OutOfOrder');
      expect(await bob.opener.open(f0.counter, f0.ciphertext, aad)).to.deep.equal(text.encode('0'));
      expect(await bob.opener.open(f0.counter, f0.ciphertext, aad)).to.equal('OutOfOrder');
      // A replayed frame under the next counter's number fails authentication (the nonce is the counter).
      expect(await bob.opener.open(1, f0.ciphertext, aad)).to.equal('BadSeal');
      expect(await bob.opener.open(f1.counter, f1.ciphertext, aad)).to.deep.equal(text.encode('1'));
    });

    it('wrong key: another pair, another link salt, or the same direction’s own key cannot open', async () => {
      const [alice] = await pair();
      const [, otherBob] = await pair();
      const s = await alice.sealer.seal(text.encode('x'), aad);
      expect(await otherBob.opener.open(s.counter, s.ciphertext, aad)).to.equal('BadSeal');
      expect(await alice.opener.open(s.counter, s.ciphertext, aad)).to.equal('BadSeal'); // a reflected frame
      const [a, b] = await Promise.all([kdfA.generateKeyPair(), kdfB.generateKeyPair()]);
      const one = await deriveRelayCiphers(a, b.publicKey, 'alice', 'bob', salt, aeadA, kdfA);
      const two = await deriveRelayCiphers(b, a.publicKey, 'bob', 'alice', new Uint8Array(32).fill(8), aeadB, kdfB);
      const t = await one.sealer.seal(text.encode('y'), aad);
      expect(await two.opener.open(t.counter, t.ciphertext, aad)).to.equal('BadSeal');
    });

    it('a peer key that is not base64url, or not a point on P-256, is refused', async () => {
      const a = await kdfA.generateKeyPair();
      const offCurve = new Uint8Array(65).fill(1);
      offCurve[0] = 4;
      for (const bad of ['not a key', toBase64Url(offCurve), toBase64Url(new Uint8Array(20).fill(2))]) {
        for (const kdf of [kdfA, kdfB]) {
          // A synchronous derivation throws; an asynchronous one rejects.
          const err = await (async () => deriveRelayCiphers(a, bad, 'alice', 'bob', salt, aeadA, kdf))().then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(err, `${bad} accepted`).to.be.instanceOf(Error);
        }
      }
    });
  });
}

describe('relay key derivation: node:crypto at once, WebCrypto asynchronously, the same bytes', () => {
  it("node:crypto's ECDH key pair and a WebCrypto one agree on the shared secret, whichever side derives", async () => {
    const own = nodeRelayKdf.generateKeyPair();
    expect(own).to.not.be.instanceOf(Promise);
    const node = own as RelayKeyPair;
    const web = await generateRelayKeyPair();
    const nodeRaw = fromBase64Url(node.publicKey) as Uint8Array;
    const webRaw = fromBase64Url(web.publicKey) as Uint8Array;
    expect(nodeRaw.byteLength).to.equal(65); // uncompressed, as signaling carries it
    const fromNode = nodeRelayKdf.sharedSecret(node, webRaw) as Uint8Array;
    expect(fromNode).to.deep.equal(await webCryptoKdf.sharedSecret(web, nodeRaw));
    // WebCrypto's derivation takes the ECDH key too; node:crypto's takes a WebCrypto key (the slower way).
    expect(await webCryptoKdf.sharedSecret(node, webRaw)).to.deep.equal(fromNode);
    expect(nodeRelayKdf.sharedSecret(web, nodeRaw)).to.deep.equal(fromNode);
    const other = (nodeRelayKdf.generateKeyPair() as RelayKeyPair).publicKey;
    expect(nodeRelayKdf.sharedSecret(node, fromBase64Url(other) as Uint8Array)).to.not.deep.equal(fromNode);
  });

  it('the same shared secret and HKDF output from either, and node:crypto returns no promise', async () => {
    const [a, b] = await Promise.all([generateRelayKeyPair(), generateRelayKeyPair()]);
    const bRaw = fromBase64Url(b.publicKey) as Uint8Array;
    const sync = nodeRelayKdf.sharedSecret(a, bRaw);
    expect(sync).to.not.be.instanceOf(Promise);
    const web = await webCryptoKdf.sharedSecret(a, bRaw);
    expect(sync).to.deep.equal(web);
    const infos = [text.encode('one'), text.encode('two')];
    const okm = nodeRelayKdf.hkdf(web, salt, infos);
    expect(okm).to.not.be.instanceOf(Promise);
    expect(okm).to.deep.equal(await webCryptoKdf.hkdf(web, salt, infos));
    expect(deriveRelayCiphers(a, b.publicKey, 'alice', 'bob', salt, nodeRelayAead, nodeRelayKdf)).to.not.be.instanceOf(
      Promise,
    );
  });
});

describe('moved proof: only the two participants of a pair can make it, in either runtime', () => {
  it('the sender and the receiver compute the same 16 bytes, node:crypto and WebCrypto alike', async () => {
    const mover = nodeRelayKdf.generateKeyPair() as RelayKeyPair;
    const receiver = await generateRelayKeyPair();
    const made = movedProof(mover, receiver.publicKey, mover.publicKey, 'cid-1', 'new-id', nodeRelayKdf);
    expect(made).to.not.be.instanceOf(Promise);
    expect((made as Uint8Array).byteLength).to.equal(16);
    const checked = await movedProof(receiver, mover.publicKey, mover.publicKey, 'cid-1', 'new-id', webCryptoKdf);
    expect(checked).to.deep.equal(made);
  });

  it('another id, session, sender key or key pair gives other bytes; a copied public key cannot make it', () => {
    const [owner, receiver, copier] = [1, 2, 3].map(() => nodeRelayKdf.generateKeyPair() as RelayKeyPair);
    const proof = (own: RelayKeyPair, senderKey: string, cid: string, id: string): Uint8Array =>
      movedProof(own, receiver!.publicKey, senderKey, cid, id, nodeRelayKdf) as Uint8Array;
    const expected = movedProof(receiver!, owner!.publicKey, owner!.publicKey, 'c', 'x', nodeRelayKdf);
    expect(proof(owner!, owner!.publicKey, 'c', 'x')).to.deep.equal(expected);
    expect(proof(owner!, owner!.publicKey, 'c', 'y')).to.not.deep.equal(expected);
    expect(proof(owner!, owner!.publicKey, 'd', 'x')).to.not.deep.equal(expected);
    expect(proof(owner!, copier!.publicKey, 'c', 'x')).to.not.deep.equal(expected);
    // The copier names the owner's key but holds its own private key: its best try is not the proof.
    expect(proof(copier!, owner!.publicKey, 'c', 'x')).to.not.deep.equal(expected);
  });

  it('a peer key that is not base64url, or not a P-256 point, throws (node:crypto) or rejects (WebCrypto)', async () => {
    const own = nodeRelayKdf.generateKeyPair() as RelayKeyPair;
    for (const bad of ['not base64url!', toBase64Url(new Uint8Array(65).fill(4))]) {
      expect(() => movedProof(own, bad, own.publicKey, 'c', 'x', nodeRelayKdf), bad).to.throw();
      let rejected = false;
      await Promise.resolve(movedProof(await generateRelayKeyPair(), bad, own.publicKey, 'c', 'x', webCryptoKdf)).catch(
        () => (rejected = true),
      );
      expect(rejected, bad).to.equal(true);
    }
  });
});
