/** Text for a terminal: what a peer chose, printed so that it cannot drive the terminal. */

/**
 * `text` with its control characters (but tab) written as `\uXXXX`, so what a peer chose (a name, a type, the
 * error of its handler) cannot drive the terminal it is printed on (retitle it, erase lines, fake output).
 * In a JSON line the escape is the same character, so the line still reads the same.
 */
export function printable(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    out += (c < 0x20 && c !== 0x09) || (c >= 0x7f && c <= 0x9f) ? `\\u${c.toString(16).padStart(4, '0')}` : ch;
  }
  return out;
}
