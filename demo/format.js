// Small pure helpers of the demo: sizes, times, avatars, MIME types and error texts.

/** "5.0 MiB", "120 KiB", "12 B". */
export function formatBytes(n) {
  if (!Number.isFinite(n) || n < 0) return '?';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10 * 1024 ? 1 : 0)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

/** A <time> element for `date`, shown as local hours and minutes. */
export function timeElement(date = new Date()) {
  const el = document.createElement('time');
  el.dateTime = date.toISOString();
  el.textContent = date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  el.title = date.toLocaleString();
  return el;
}

/** One or two letters for an avatar. */
export function initials(name) {
  const words = withoutBidi(name).trim().split(/\s+/).filter(Boolean);
  const letters =
    words.length > 1 ? [words[0], words[words.length - 1]].map((w) => [...w][0]) : [...(words[0] ?? '?')].slice(0, 1);
  return letters.join('').toUpperCase();
}

const AVATAR_COLORS = [
  '#4f46e5',
  '#0891b2',
  '#059669',
  '#d97706',
  '#db2777',
  '#7c3aed',
  '#dc2626',
  '#2563eb',
  '#0d9488',
  '#9333ea',
];

/** A stable avatar color for a participant id. */
export function avatarColor(id) {
  let h = 0;
  for (const ch of String(id)) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return AVATAR_COLORS[h % AVATAR_COLORS.length];
}

/** An avatar element for a participant. */
export function avatarElement(id, name) {
  const el = document.createElement('span');
  el.className = 'avatar';
  el.setAttribute('aria-hidden', 'true');
  el.textContent = initials(name);
  el.style.setProperty('--avatar', avatarColor(id));
  return el;
}

// Raster formats only: an SVG or HTML file opened from a blob: URL would run script with this page's origin.
const INLINE_IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/bmp']);

/** True when an attachment of this MIME type may be shown inline as an image. */
export function isInlineImage(mime) {
  return INLINE_IMAGE_TYPES.has(mime);
}

/** A MIME type a peer sent, kept only when it looks like one. */
export function cleanMime(mime) {
  return typeof mime === 'string' && /^[\w.+-]{1,64}\/[\w.+-]{1,128}$/.test(mime)
    ? mime.toLowerCase()
    : 'application/octet-stream';
}

// Bidirectional controls reorder what is shown, not what is saved: "invoice\u202Efdp.exe" shows as
// "invoiceexe.pdf" and saves as an .exe. A file name never needs them.
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` without bidirectional controls. */
function withoutBidi(text) {
  return String(text).replace(BIDI_CONTROLS, '');
}

/**
 * A participant's name as shown: without bidirectional controls. The name is the participant's own choice,
 * and "bob\u202E (admin)" would otherwise show as "bob(nimda)" and reverse the text around it.
 */
export function displayName(name) {
  return withoutBidi(name).trim() || '(no name)';
}

/** A file name a peer sent, made safe to show and to offer as a download name. */
export function cleanFileName(name) {
  if (typeof name !== 'string') return 'file';
  // Control characters are what this removes.
  // eslint-disable-next-line no-control-regex
  const unsafe = /[\u0000-\u001f\u007f/\\]/g;
  const s = withoutBidi(name).replace(unsafe, '_').trim();
  return (s || 'file').slice(0, 200);
}

/** A short label for a file icon: its extension. */
export function fileLabel(name) {
  const m = /\.([a-z0-9]{1,4})$/i.exec(name);
  return m ? m[1] : 'file';
}

/** A sentence a person can act on, for an error roommesh (or the browser) raised. */
export function describeError(err, who) {
  const reason = err && typeof err === 'object' ? err.reason : undefined;
  switch (reason) {
    case 'Unreachable':
      return 'Cannot reach the signaling server. Is it running?';
    case 'Timeout':
      return err.name === 'ConnectionError'
        ? 'The signaling server did not answer in time.'
        : `${who ?? 'The recipient'} did not confirm in time; it may or may not have arrived.`;
    case 'Refused':
      return err.name === 'ConnectionError'
        ? `The signaling server refused: ${err.message}`
        : `${who ?? 'The recipient'} refused it: ${err.message}`;
    case 'Disconnected':
      return 'Not connected to the signaling server.';
    case 'ParticipantNotFound':
      return `${who ?? 'That participant'} is not in the room any more.`;
    case 'ParticipantLeft':
      return `${who ?? 'The recipient'} left before receiving it.`;
    case 'NotEnabled':
      return 'Messaging is not on: rejoin the room.';
    case 'MessageTooLarge':
      return `Too large to send: ${err.message}`;
    case 'Aborted':
      return 'Cancelled.';
    case 'InvalidArgument':
      return err.message;
    default:
      return err instanceof Error ? err.message : String(err);
  }
}
