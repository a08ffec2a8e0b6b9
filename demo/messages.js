// The message log: chat messages, files with progress, JSON messages of other types, and system lines.
// Everything a peer sent is shown as text (never as HTML); the log keeps at most MAX_ENTRIES entries.
import {
  avatarElement,
  cleanFileName,
  cleanMime,
  displayName,
  fileLabel,
  formatBytes,
  isInlineImage,
  timeElement,
} from './format.js';

/** Entries kept in the log; older ones are dropped, and their files' memory released. */
const MAX_ENTRIES = 300;
/**
 * Bytes of received files kept for download; past it the oldest files are released (their entries stay,
 * saying so). A peer may send files of up to 256 MiB one after another: by count alone, 300 of them.
 */
const MAX_RECEIVED_BYTES = 512 * 1024 * 1024;
/** Longest text shown for one message; a peer chooses its length. */
const MAX_TEXT_CHARS = 8000;

export class MessageLog {
  /**
   * @param {HTMLOListElement} list
   * @param {{ maxReceivedBytes?: number }} [options] bytes of received files kept (a test sets fewer)
   */
  constructor(list, { maxReceivedBytes = MAX_RECEIVED_BYTES } = {}) {
    this.list = list;
    this.maxReceivedBytes = maxReceivedBytes;
    /** Blob URLs per entry, revoked when the entry goes. @type {WeakMap<Element, string[]>} */
    this.urls = new WeakMap();
    /** Received files kept, oldest first, with their sizes. @type {Map<Element, number>} */
    this.received = new Map();
    this.receivedBytes = 0;
    this.clear();
  }

  /** Empties the log and releases every file. */
  clear() {
    for (const li of [...this.list.children]) this.#release(li);
    const empty = document.createElement('li');
    empty.className = 'empty';
    empty.textContent = 'No messages yet. Say hello, or attach a file.';
    this.list.replaceChildren(empty);
  }

  /** A line about the room itself (someone joined or left, a failure). */
  system(text, { bad = false } = {}) {
    const li = document.createElement('li');
    li.className = bad ? 'system bad' : 'system';
    li.textContent = text;
    this.#append(li);
  }

  /**
   * A message this participant sends. Returns an entry to report delivery and progress on.
   * @param {{ self: { id: string, name: string }, type: string, to: { name: string } | null, text?: string, file?: File, onCancel?: () => void }} m
   */
  outgoing({ self, type, to, text, file, onCancel }) {
    const { li, bubble } = this.#message({ from: self, type, to, mine: true, text });
    const card =
      file === undefined
        ? undefined
        : new FileCard(bubble, { name: file.name, size: file.size, mime: file.type, mine: true, onCancel });
    if (card !== undefined && isInlineImage(cleanMime(file.type))) card.showImage(file, this.#urlsOf(li));
    const delivery = document.createElement('div');
    delivery.className = 'delivery';
    delivery.dataset.state = 'sending';
    // A file's card already says it is sending.
    delivery.textContent = card === undefined ? 'Sending…' : '';
    bubble.append(delivery);
    this.#append(li);
    return {
      element: li,
      progress: (sent, total) => card?.progress(sent, total),
      delivered: (text) => {
        delivery.dataset.state = 'delivered';
        delivery.textContent = `✓ ${text}`;
        card?.done('Sent');
      },
      partial: (text) => {
        delivery.dataset.state = 'partial';
        delivery.textContent = `⚠ ${text}`;
        card?.done('Sent');
      },
      failed: (text) => {
        delivery.dataset.state = 'failed';
        delivery.textContent = `✗ Not delivered: ${text}`;
        card?.failed(text);
      },
    };
  }

  /**
   * A message from another participant starts arriving (its attachment is on the way).
   * Returns the entry that {@link incoming} completes.
   */
  arriving({ from, type, message, receivedBytes, totalBytes }) {
    const file = fileInfo(message, totalBytes);
    const { li, bubble } = this.#message({ from, type, to: null, mine: false, text: message.text });
    const card = new FileCard(bubble, { ...file, mine: false });
    card.progress(receivedBytes, totalBytes);
    this.#append(li);
    return { li, card };
  }

  /** A message from another participant arrived whole; `pending` is what {@link arriving} returned, if anything. */
  incoming({ from, type, message, attachment }, pending) {
    if (pending !== undefined) {
      if (attachment === undefined) pending.card.done('Received');
      else this.#finishFile(pending.li, pending.card, message, attachment);
      return;
    }
    const known = type === 'chat' || type === 'file';
    const text = known ? message.text : undefined;
    const { li, bubble } = this.#message({ from, type, to: null, mine: false, text });
    if (!known) {
      const pre = document.createElement('pre');
      pre.className = 'json';
      pre.textContent = clip(JSON.stringify(message, null, 2));
      bubble.append(pre);
    }
    const card =
      attachment === undefined
        ? undefined
        : new FileCard(bubble, { ...fileInfo(message, attachment.byteLength), mine: false });
    this.#append(li);
    if (card !== undefined) this.#finishFile(li, card, message, attachment);
  }

  /** An attachment stopped arriving: the sender cancelled or left. */
  aborted(pending, text) {
    pending.card.failed(text);
  }

  #finishFile(li, card, message, attachment) {
    // An entry already dropped from the log gets no blob URL: nothing would ever release it.
    if (!li.isConnected) return;
    const { name, mime } = fileInfo(message, attachment.byteLength);
    const inline = isInlineImage(mime);
    // Anything not shown inline is handed over as opaque bytes, so the browser never renders it.
    const blob = new Blob([attachment], { type: inline ? mime : 'application/octet-stream' });
    const urls = this.#urlsOf(li);
    if (inline) card.showImage(blob, urls);
    card.offerDownload(blob, name, urls);
    card.progress(attachment.byteLength, attachment.byteLength);
    card.done('Received');
    this.received.set(li, attachment.byteLength);
    this.receivedBytes += attachment.byteLength;
    for (const [old] of this.received) {
      if (this.receivedBytes <= this.maxReceivedBytes || old === li) break;
      this.#release(old);
      for (const el of old.querySelectorAll('.file img, .file a')) el.remove();
      old.querySelector('.file')?.append(released());
    }
  }

  // `to` is shown only on this participant's own messages. A received one says nothing of its addressee:
  // a broadcast goes to each recipient as a message of its own, so the library cannot tell it from a
  // direct one, and a "to you" read from the message's JSON would be whatever the sender claims.
  #message({ from, type, to, mine, text }) {
    const li = document.createElement('li');
    li.className = `msg${mine ? ' mine' : ''}${mine && to ? ' direct' : ''}`;
    li.dataset.type = type;
    li.dataset.from = from.id;
    li.append(avatarElement(from.id, from.name));
    const bubble = document.createElement('div');
    bubble.className = 'bubble';
    const meta = document.createElement('div');
    meta.className = 'meta';
    const sender = document.createElement('span');
    sender.className = 'sender';
    sender.textContent = mine ? 'You' : displayName(from.name);
    const badge = document.createElement('span');
    badge.className = 'badge';
    badge.textContent = type.slice(0, 40);
    badge.title = `message type: ${type}`;
    meta.append(sender, badge);
    if (mine && to) {
      const direct = document.createElement('span');
      direct.className = 'badge direct';
      direct.textContent = `to ${displayName(to.name)}`;
      meta.append(direct);
    }
    meta.append(timeElement());
    bubble.append(meta);
    if (typeof text === 'string' && text.length > 0) {
      const p = document.createElement('p');
      p.className = 'text';
      p.textContent = clip(text);
      bubble.append(p);
    }
    li.append(bubble);
    return { li, bubble };
  }

  #append(li) {
    const list = this.list;
    list.querySelector(':scope > .empty')?.remove();
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    list.append(li);
    while (list.children.length > MAX_ENTRIES) {
      const first = list.firstElementChild;
      this.#release(first);
      first.remove();
    }
    if (nearBottom || li.classList.contains('mine')) li.scrollIntoView({ block: 'end' });
  }

  #urlsOf(li) {
    let urls = this.urls.get(li);
    if (urls === undefined) this.urls.set(li, (urls = []));
    return urls;
  }

  #release(li) {
    for (const url of this.urls.get(li) ?? []) URL.revokeObjectURL(url);
    this.urls.delete(li);
    this.receivedBytes -= this.received.get(li) ?? 0;
    this.received.delete(li);
  }
}

/** A file inside a message: name, size, progress bar, then the image or a download link. */
class FileCard {
  constructor(parent, { name, size, mime, mine, onCancel }) {
    this.el = document.createElement('div');
    this.el.className = 'file';
    this.el.dataset.state = 'transferring';
    const row = document.createElement('div');
    row.className = 'file-row';
    const icon = document.createElement('span');
    icon.className = 'file-icon';
    icon.setAttribute('aria-hidden', 'true');
    icon.textContent = fileLabel(name);
    const info = document.createElement('div');
    const n = document.createElement('div');
    n.className = 'file-name';
    n.textContent = name;
    const s = document.createElement('div');
    s.className = 'file-size';
    s.textContent = `${formatBytes(size)}${mime && mime !== 'application/octet-stream' ? ` · ${mime}` : ''}`;
    info.append(n, s);
    row.append(icon, info);
    this.bar = document.createElement('progress');
    this.bar.max = Math.max(size, 1);
    this.bar.value = 0;
    this.bar.setAttribute('aria-label', `${mine ? 'Sending' : 'Receiving'} ${name}`);
    const status = document.createElement('div');
    status.className = 'file-status';
    this.statusText = document.createElement('span');
    this.statusText.textContent = mine ? 'Sending…' : 'Receiving…';
    this.percent = document.createElement('span');
    this.percent.className = 'file-percent';
    this.percent.textContent = '0%';
    status.append(this.statusText, this.percent);
    this.el.append(row, this.bar, status);
    if (onCancel) {
      this.cancel = document.createElement('button');
      this.cancel.type = 'button';
      this.cancel.className = 'ghost cancel';
      this.cancel.textContent = 'Cancel';
      this.cancel.setAttribute('aria-label', `Cancel sending ${name}`);
      this.cancel.addEventListener('click', onCancel, { once: true });
      row.append(this.cancel);
    }
    this.size = size;
    this.mine = mine;
    parent.append(this.el);
  }

  progress(done, total) {
    if (!(total > 0)) return;
    this.bar.max = total;
    this.bar.value = Math.min(done, total);
    const pct = Math.floor((Math.min(done, total) / total) * 100);
    this.percent.textContent = `${pct}%`;
    this.statusText.textContent = `${this.mine ? 'Sending' : 'Receiving'}… ${formatBytes(done)} of ${formatBytes(total)}`;
  }

  done(text) {
    this.progress(this.size, this.size);
    this.el.dataset.state = 'done';
    this.statusText.textContent = text;
    this.cancel?.remove();
  }

  failed(text) {
    this.el.dataset.state = 'failed';
    this.statusText.textContent = text;
    this.cancel?.remove();
  }

  showImage(blob, urls) {
    const url = URL.createObjectURL(blob);
    urls.push(url);
    const img = document.createElement('img');
    img.src = url;
    img.alt = `Image ${this.el.querySelector('.file-name').textContent}`;
    img.loading = 'lazy';
    this.el.append(img);
  }

  offerDownload(blob, name, urls) {
    const url = URL.createObjectURL(blob);
    urls.push(url);
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    a.textContent = `Download ${name}`;
    this.el.append(a);
  }
}

/** What a released file's card says instead of its download link. */
function released() {
  const note = document.createElement('span');
  note.className = 'released';
  note.textContent = 'Released to save memory (newer files came)';
  return note;
}

function fileInfo(message, size) {
  return { name: cleanFileName(message.name), mime: cleanMime(message.mime), size };
}

function clip(text) {
  return text.length > MAX_TEXT_CHARS
    ? `${text.slice(0, MAX_TEXT_CHARS)}… (${text.length - MAX_TEXT_CHARS} more characters)`
    : text;
}
