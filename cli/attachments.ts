/** Received attachments on disk, each named by the SHA-256 of its bytes: no name from a peer reaches a path. */
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

/** An attachment as a JSON line reports it. */
export interface SavedAttachment {
  bytes: number;
  sha256: string;
  path: string;
}

/** The SHA-256 of `bytes`, in hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Saves `bytes` in `dir` as `<sha256>` (through a temporary name, so a reader never sees half a file);
 * the same bytes received twice are one file.
 */
export async function saveAttachment(dir: string, bytes: Uint8Array): Promise<SavedAttachment> {
  const hash = sha256(bytes);
  const path = resolve(join(dir, hash));
  await mkdir(dir, { recursive: true });
  const exists = await stat(path).then(
    (s) => s.isFile() && s.size === bytes.byteLength,
    () => false,
  );
  if (!exists) {
    const tmp = `${path}.${process.pid}.partial`;
    try {
      await writeFile(tmp, bytes);
      await rename(tmp, path);
    } catch (err) {
      // A disk that filled up leaves no half file behind for each message that follows.
      await rm(tmp, { force: true }).catch(() => {});
      throw err;
    }
  }
  return { bytes: bytes.byteLength, sha256: hash, path };
}

/**
 * {@link saveAttachment} for a message that is printed whether or not its bytes could be saved: the saved
 * attachment (null when there were no bytes, or they could not be saved), and why not.
 */
export async function saveOrSay(
  dir: string,
  bytes: Uint8Array | undefined,
): Promise<{ attachment: SavedAttachment | null; attachmentError?: string }> {
  if (bytes === undefined) return { attachment: null };
  try {
    return { attachment: await saveAttachment(dir, bytes) };
  } catch (err) {
    return { attachment: null, attachmentError: err instanceof Error ? err.message : String(err) };
  }
}
