/**
 * The messaging rehearsal a room runs while it connects (lib/rehearsal.ts): two participants' real meshes and
 * messaging clients in memory, on each entry's crypto, present to each other over relayed sessions, one
 * acknowledged message each way, then both disabled.
 */
import { expect } from 'chai';
import { nodeRelayAead } from '../../lib/link/node-relay-aead.js';
import { nodeRelayKdf } from '../../lib/link/node-relay-kdf.js';
import { webCryptoAead, webCryptoKdf, type RelayKeyPair } from '../../lib/link/relay-crypto.js';
import type { Logger } from '../../lib/logger.js';
import { rehearseMessaging } from '../../lib/rehearsal.js';

/** A logger that keeps its debug lines. */
function debugLines(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const noop = (): void => {};
  return {
    lines,
    logger: { debug: (obj, msg) => lines.push(`${msg} ${JSON.stringify(obj)}`), info: noop, warn: noop, error: noop },
  };
}

describe('rehearseMessaging', () => {
  for (const [label, aead, kdf] of [
    ['node:crypto (the Node entry)', nodeRelayAead, nodeRelayKdf],
    ['WebCrypto (browsers)', webCryptoAead, webCryptoKdf],
  ] as const) {
    it(`${label}: both present to each other and each acknowledges the other's message`, async () => {
      const { logger, lines } = debugLines();
      const keys = await kdf.generateKeyPair();
      expect(await rehearseMessaging({ keys, aead, kdf, logger })).to.equal(true);
      expect(lines).to.deep.equal([]);
    });
  }

  it('a key pair whose public half is no P-256 point: the handshake fails, false and a debug line, no throw', async () => {
    const { logger, lines } = debugLines();
    const good = nodeRelayKdf.generateKeyPair() as RelayKeyPair;
    const keys: RelayKeyPair = { privateKey: good.privateKey, publicKey: 'AAAA' };
    expect(await rehearseMessaging({ keys, aead: nodeRelayAead, kdf: nodeRelayKdf, logger, timeoutMs: 500 })).to.equal(
      false,
    );
    expect(lines).to.have.length(1);
    expect(lines[0]).to.match(/^the messaging rehearsal failed/);
  });
});
