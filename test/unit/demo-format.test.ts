/** The demo's pure helpers (demo/format.js, plain JS loaded as it is served): file names a peer sends. */
import { expect } from 'chai';

// Loaded by URL: demo/ is plain JS outside the TypeScript build, and stays where it is served from.
const format = (await import(new URL('../../../demo/format.js', import.meta.url).href)) as {
  cleanFileName(name: unknown): string;
  displayName(name: unknown): string;
  initials(name: unknown): string;
};

describe('demo cleanFileName', () => {
  it('strips every bidirectional control, so the name shown is the name saved', () => {
    // "invoice<U+202E>fdp.exe" shows as "invoiceexe.pdf"; without the control it reads as what it saves.
    expect(format.cleanFileName('invoice\u202efdp.exe')).to.equal('invoicefdp.exe');
    const controls = [
      '\u202a',
      '\u202b',
      '\u202c',
      '\u202d',
      '\u202e',
      '\u2066',
      '\u2067',
      '\u2068',
      '\u2069',
      '\u200e',
      '\u200f',
      '\u061c',
    ];
    for (const c of controls)
      expect(format.cleanFileName(`a${c}b.txt`), `U+${c.codePointAt(0)!.toString(16)}`).to.equal('ab.txt');
    expect(format.cleanFileName('\u202e\u2067')).to.equal('file');
  });

  it('keeps other characters, and still replaces control characters and path separators', () => {
    expect(format.cleanFileName('résumé 履歴書 عربي.pdf')).to.equal('résumé 履歴書 عربي.pdf');
    expect(format.cleanFileName('../etc\\passwd\n')).to.equal('.._etc_passwd_');
    expect(format.cleanFileName(42)).to.equal('file');
  });
});

describe('demo displayName', () => {
  it("strips bidirectional controls from a participant's name, which is the participant's own choice", () => {
    // "bob<U+202E> (admin)" showed as "bob(nimda)" and reversed the text around it.
    expect(format.displayName('bob\u202e (admin)')).to.equal('bob (admin)');
    expect(format.displayName('\u2067alice\u2069')).to.equal('alice');
    expect(format.displayName('\u202e')).to.equal('(no name)');
    expect(format.displayName('José 🙂 <b>x</b>')).to.equal('José 🙂 <b>x</b>'); // shown as text, not parsed
    expect(format.initials('\u202eadmin bob')).to.equal('AB');
  });
});
