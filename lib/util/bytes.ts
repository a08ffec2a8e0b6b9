/** Whether the bytes' buffer was transferred away (`postMessage`, `structuredClone`): a view over it throws. */
export function isDetached(bytes: Uint8Array): boolean {
  try {
    new Uint8Array(bytes.buffer, bytes.byteOffset, 0);
    return false;
  } catch {
    return true;
  }
}
