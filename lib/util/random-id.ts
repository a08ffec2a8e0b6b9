/** A random id of 16 hex characters from the platform's CSPRNG (works in insecure browser contexts too). @internal */
export function randomId(): string {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** A random integer below 2^48 from the platform's CSPRNG: tells one session of a pair from another. @internal */
export function randomSessionTag(): number {
  const bytes = new Uint8Array(6);
  globalThis.crypto.getRandomValues(bytes);
  let n = 0;
  for (const b of bytes) n = n * 256 + b;
  return n;
}
