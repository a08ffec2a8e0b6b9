// The roommesh demo: join a room, see who is there, chat, send files. It uses the library exactly as an
// app would, from the standalone browser bundle the signaling server serves at /roommesh.js.
import { Room } from './roommesh.js';
import { describeError, displayName, formatBytes } from './format.js';
import { MessageLog } from './messages.js';
import { PresenceList } from './presence.js';

/** Largest file the demo offers to send: the library's default `maxAttachmentBytes` (256 MiB). */
const MAX_FILE_BYTES = 256 * 1024 * 1024;

const $ = (id) => document.getElementById(id);
const ui = {
  joinView: $('join-view'),
  joinForm: $('join-form'),
  joinRoom: $('join-room'),
  joinName: $('join-name'),
  joinError: $('join-error'),
  joinButton: $('join-button'),
  roomView: $('room-view'),
  session: $('session'),
  roomName: $('room-name'),
  signaling: $('signaling-status'),
  copyLink: $('copy-link'),
  leave: $('leave'),
  banner: $('banner'),
  bannerText: $('banner-text'),
  bannerAction: $('banner-action'),
  bannerClose: $('banner-close'),
  myStatus: $('my-status'),
  composer: $('composer'),
  to: $('to'),
  text: $('text'),
  file: $('file'),
  attached: $('attached'),
  attachedName: $('attached-name'),
  attachedClear: $('attached-clear'),
};

const log = new MessageLog($('messages'));
const presence = new PresenceList({
  list: $('people-list'),
  count: $('people-count'),
  template: $('person-template'),
  onSelect: (id) => {
    ui.to.value = id ?? '';
  },
});

/** The joined room, while there is one. @type {Room | undefined} */
let room;
/** The file chosen for the next message. @type {File | undefined} */
let pendingFile;
/** Incoming messages whose attachment is still arriving, by message id. */
const arriving = new Map();

// ---- joining and leaving -------------------------------------------------------------------------

const params = new URLSearchParams(location.search);
ui.joinRoom.value = params.get('room') ?? '';
// The name is not put in the room's link (shared, it would name whoever opens it): this tab remembers it, so
// that a reload offers it again.
const NAME_KEY = 'roommesh-demo-name';
const remembered = {
  get: () => {
    try {
      return sessionStorage.getItem(NAME_KEY) ?? '';
    } catch {
      return ''; // storage turned off
    }
  },
  set: (name) => {
    try {
      sessionStorage.setItem(NAME_KEY, name);
    } catch {
      // storage turned off: nothing remembered
    }
  },
};
ui.joinName.value = params.get('name') ?? remembered.get();
/** `?paths=relay` (or direct, direct-first) tries another path policy; the library's default otherwise. */
const PATHS = ['relay-first', 'direct-first', 'direct', 'relay'];
const paths = PATHS.includes(params.get('paths') ?? '') ? params.get('paths') : undefined;
(ui.joinRoom.value ? ui.joinName : ui.joinRoom).focus();

ui.joinForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void join(ui.joinRoom.value.trim(), ui.joinName.value.trim());
});

async function join(roomName, name) {
  ui.joinError.textContent = '';
  if (!roomName || !name) {
    ui.joinError.textContent = !roomName ? 'Enter a room name.' : 'Enter your name.';
    (roomName ? ui.joinName : ui.joinRoom).focus();
    return;
  }
  ui.joinButton.disabled = true;
  ui.joinButton.textContent = 'Joining…';
  hideBanner();
  let joined;
  try {
    joined = await Room.connect({
      url: location.origin,
      room: roomName,
      name,
      attributes: { status: ui.myStatus.value },
      ...(paths === undefined ? {} : { paths }),
    });
    room = joined;
    wire(joined);
    showRoom(joined);
    await joined.messaging.enable();
    ui.text.focus();
  } catch (err) {
    if (joined !== undefined) {
      room = undefined;
      await joined.disconnect().catch(() => {});
      showJoin();
    }
    ui.joinError.textContent = `Could not join: ${describeError(err)}`;
    ui.joinRoom.focus();
  } finally {
    ui.joinButton.disabled = false;
    ui.joinButton.textContent = 'Join';
  }
}

async function leave() {
  const current = room;
  room = undefined;
  if (current !== undefined) await current.disconnect().catch(() => {});
  showJoin();
  ui.joinButton.focus();
}

function showRoom(r) {
  remembered.set(r.localParticipant.name);
  ui.roomName.textContent = r.name;
  setSignaling('connected');
  ui.session.hidden = false;
  ui.joinView.hidden = true;
  ui.roomView.hidden = false;
  presence.reset(r.localParticipant);
  refreshRecipients();
  log.clear();
  arriving.clear();
  clearAttachment();
  history.replaceState(null, '', `?${new URLSearchParams({ room: r.name, ...(paths ? { paths } : {}) })}`);
  document.title = `${r.name} · roommesh demo`;
}

function showJoin() {
  ui.session.hidden = true;
  ui.roomView.hidden = true;
  ui.joinView.hidden = false;
  document.title = 'roommesh demo';
}

ui.leave.addEventListener('click', () => void leave());
// Closing the tab or navigating away leaves the room at once: the library does that itself on `pagehide`,
// and not for a page kept in the back/forward cache, which may come back (a handler here did, and such a
// page came back with a room that had left).

// ---- what the room reports -----------------------------------------------------------------------

function wire(r) {
  const m = r.messaging;
  const current = () => room === r;
  r.on('signaling_disconnected', (reason) => {
    if (!current()) return;
    setSignaling('disconnected');
    showBanner(`Lost the signaling server (${reason}); reconnecting. Open channels keep working meanwhile.`);
  });
  r.on('signaling_reconnected', () => {
    if (!current()) return;
    setSignaling('connected');
    hideBanner();
    log.system('Back on the signaling server.');
  });
  r.on('signaling_rejoined', () => {
    if (!current()) return;
    setSignaling('connected');
    hideBanner();
    presence.updateSelf(r.localParticipant);
    log.system('The signaling server restarted; rejoined it by ourselves. Open channels kept working.');
  });
  r.on('signaling_failed', () => {
    if (!current()) return;
    setSignaling('disconnected');
    showBanner(
      'The signaling server will not take you back (your token was refused). Open channels keep working, but nobody new can reach you.',
      'Rejoin',
      () => {
        const again = { room: r.name, name: r.localParticipant.name };
        void leave().then(() => join(again.room, again.name));
      },
    );
  });
  m.on('participant_added', (p) => {
    if (!current()) return;
    presence.add(p);
    refreshRecipients();
    log.system(`${displayName(p.name)} joined`);
  });
  m.on('participant_removed', (p) => {
    if (!current()) return;
    presence.remove(p.id);
    refreshRecipients();
    for (const [id, pending] of arriving) {
      if (pending.from === p.id) {
        log.aborted(pending, `${displayName(p.name)} left before it arrived`);
        arriving.delete(id);
      }
    }
    log.system(`${displayName(p.name)} left`);
  });
  m.on('participant_id_changed', (p, previousId) => {
    if (!current()) return;
    presence.rename(previousId, p);
    for (const pending of arriving.values()) if (pending.from === previousId) pending.from = p.id;
    refreshRecipients();
  });
  m.on('participant_attributes_updated', (p) => {
    if (current()) presence.update(p);
  });
  m.on('participant_link_changed', (p, state) => {
    if (!current()) return;
    presence.updateLink(p);
    if (state === 'reconnecting') log.system(`${displayName(p.name)}: reconnecting…`);
  });
  m.on('attachment_progress', (p) => {
    if (!current()) return;
    const pending = arriving.get(p.messageId);
    if (pending !== undefined) pending.card.progress(p.receivedBytes, p.totalBytes);
    else arriving.set(p.messageId, { ...log.arriving(p), from: p.fromParticipantId });
  });
  m.on('attachment_aborted', (p, reason) => {
    if (!current()) return;
    const pending = arriving.get(p.messageId);
    if (pending === undefined) return;
    arriving.delete(p.messageId);
    log.aborted(pending, abortedText(displayName(p.from.name), reason));
  });
  m.on('message', (msg) => {
    if (!current()) return;
    const pending = msg.messageId === undefined ? undefined : arriving.get(msg.messageId);
    arriving.delete(msg.messageId);
    log.incoming(msg, pending);
  });
  m.on('error', (err) => {
    if (current()) log.system(`Refused something ${nameOf(err.participantId)} sent: ${err.message}`, { bad: true });
  });
}

/** Why an incoming attachment stopped, in words. */
function abortedText(name, reason) {
  if (reason === 'Cancelled') return `${name} cancelled it`;
  if (reason === 'ParticipantLeft') return `${name} left before it arrived`;
  if (reason === 'Refused') return `Refused: ${name} sent more than this page accepts`;
  return `Stopped (${reason})`;
}

function nameOf(id) {
  const name = room?.messaging.getParticipant(id)?.name;
  return name === undefined ? 'a participant' : displayName(name);
}

function setSignaling(state) {
  ui.signaling.dataset.state = state;
  ui.signaling.textContent = `Signaling: ${state}`;
}

// ---- composing and sending -----------------------------------------------------------------------

function refreshRecipients() {
  const selected = presence.selected;
  const options = [new Option('Everyone', '')];
  for (const p of room?.messaging.remoteParticipants ?? []) options.push(new Option(displayName(p.name), p.id));
  ui.to.replaceChildren(...options);
  ui.to.value = selected ?? '';
}

ui.to.addEventListener('change', () => presence.select(ui.to.value || null));
ui.myStatus.addEventListener('change', () => {
  if (room === undefined) return;
  room.localParticipant.setAttributes({ status: ui.myStatus.value });
  presence.updateSelf(room.localParticipant);
});

ui.text.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    ui.composer.requestSubmit();
  }
});
ui.text.addEventListener('input', autosize);
function autosize() {
  ui.text.style.height = 'auto';
  ui.text.style.height = `${Math.min(ui.text.scrollHeight + 2, 144)}px`;
}

ui.file.addEventListener('change', () => {
  const file = ui.file.files?.[0];
  ui.file.value = '';
  if (file === undefined) return;
  if (file.size > MAX_FILE_BYTES) {
    showBanner(
      `${file.name} is ${formatBytes(file.size)}; the largest file this demo sends is ${formatBytes(MAX_FILE_BYTES)}.`,
    );
    return;
  }
  pendingFile = file;
  ui.attachedName.textContent = `${file.name} (${formatBytes(file.size)})`;
  ui.attached.hidden = false;
  ui.text.focus();
});
ui.attachedClear.addEventListener('click', () => {
  clearAttachment();
  ui.text.focus();
});
function clearAttachment() {
  pendingFile = undefined;
  ui.attached.hidden = true;
}

ui.composer.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = ui.text.value.trim();
  const file = pendingFile;
  if (room === undefined || (!text && file === undefined)) {
    ui.text.focus();
    return;
  }
  ui.text.value = '';
  autosize();
  clearAttachment();
  ui.text.focus();
  void send(room, text, file, ui.to.value || null);
});

async function send(r, text, file, toId) {
  const to = toId === null ? null : (r.messaging.getParticipant(toId) ?? { id: toId, name: 'them' });
  const message = {};
  if (text) message.text = text;
  // For apps that read it; the demo never believes it on receipt (see MessageLog#message).
  if (to !== null) message.direct = true;
  const type = file === undefined ? 'chat' : 'file';
  const abort = new AbortController();
  const entry = log.outgoing({
    self: r.localParticipant,
    type,
    to,
    text,
    file,
    onCancel: file === undefined ? undefined : () => abort.abort(),
  });
  try {
    const fields = {
      type,
      message,
      signal: abort.signal,
      onProgress: (p) => entry.progress(p.sentBytes, p.totalBytes),
    };
    if (file !== undefined) {
      Object.assign(message, { name: file.name, mime: file.type || 'application/octet-stream', size: file.size });
      fields.attachment = new Uint8Array(await file.arrayBuffer());
    }
    if (to !== null) {
      await r.messaging.sendMessage({ ...fields, to: to.id });
      entry.delivered(`Delivered to ${displayName(to.name)}`);
      return;
    }
    const everyone = r.messaging.remoteParticipants;
    if (everyone.length === 0) {
      entry.partial('No one else is in the room yet');
      return;
    }
    const names = new Map(everyone.map((p) => [p.id, p.name]));
    const { delivered, failed } = await r.messaging.broadcastMessage(fields);
    // The result names participants by their ids at the end: a participant that re-joined the server while
    // the message went (a restart) has a new one by then.
    const nameNow = (id) => r.messaging.getParticipant(id)?.name ?? names.get(id) ?? 'someone';
    const list = (ids) => listNames(ids.map((id) => displayName(nameNow(id))));
    if (failed.length === 0) entry.delivered(`Delivered to ${list(delivered)}`);
    else if (delivered.length === 0) entry.failed(`${list(failed)} did not receive it`);
    else entry.partial(`Delivered to ${list(delivered)}; not to ${list(failed)}`);
  } catch (err) {
    entry.failed(describeError(err, to ? displayName(to.name) : undefined));
  }
}

function listNames(names) {
  names = [...names].sort((a, b) => a.localeCompare(b));
  if (names.length <= 3)
    return names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
  return `${names.length} people`;
}

// ---- status and failures -------------------------------------------------------------------------

ui.copyLink.addEventListener('click', async () => {
  const link = `${location.origin}${location.pathname}?${new URLSearchParams({ room: room?.name ?? '' })}`;
  try {
    await navigator.clipboard.writeText(link);
    ui.copyLink.textContent = 'Link copied';
  } catch {
    ui.copyLink.textContent = 'Copy failed';
    showBanner(`Share this link: ${link}`);
  }
  setTimeout(() => (ui.copyLink.textContent = 'Copy invite link'), 2000);
});

function showBanner(text, actionLabel, action) {
  ui.bannerText.textContent = text;
  ui.bannerAction.hidden = actionLabel === undefined;
  ui.bannerAction.textContent = actionLabel ?? '';
  ui.bannerAction.onclick =
    action === undefined
      ? null
      : () => {
          hideBanner();
          action();
        };
  ui.banner.hidden = false;
}

function hideBanner() {
  ui.banner.hidden = true;
}
ui.bannerClose.addEventListener('click', hideBanner);

addEventListener('unhandledrejection', (event) => showBanner(`Something failed: ${describeError(event.reason)}`));
