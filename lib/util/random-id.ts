/** A random id of 16 hex characters from the platform's CSPRNG (works in insecure browser contexts too). @internal */
export function randomId(): string {
  const bytes = new Uint8Array(8);
  globalThis.crypto.getRandomValues(bytes);
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}
