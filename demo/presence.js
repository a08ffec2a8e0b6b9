// The presence list: this participant first, then everyone present, with their attributes and the path
// to each (direct, relayed, reconnecting). Selecting someone makes them the recipient of direct messages.
import { avatarColor, displayName, initials } from './format.js';

/** Attribute values longer than this are cut in the list; a peer chooses them. */
const MAX_ATTR_CHARS = 40;
/** At most this many attribute chips per participant. */
const MAX_ATTRS = 6;

/** How each link state shows. */
const LINK_STATES = {
  direct: { text: 'direct', title: 'Data channel open: messages go straight to this participant' },
  relayed: {
    text: 'relayed',
    title: 'Through the signaling server, sealed end to end (it cannot read them); moves to direct when it can',
  },
  reconnecting: { text: 'reconnecting…', title: 'The path broke; messages wait for a new one' },
  connecting: { text: 'connecting…', title: 'Setting up a path' },
};

export class PresenceList {
  /**
   * @param {{ list: HTMLUListElement, count: HTMLElement, template: HTMLTemplateElement, onSelect: (id: string | null) => void }} els
   */
  constructor({ list, count, template, onSelect }) {
    this.list = list;
    this.count = count;
    this.template = template;
    this.onSelect = onSelect;
    /** @type {Map<string, HTMLLIElement>} */
    this.items = new Map();
    this.selected = null;
  }

  /** Clears the list and shows this participant first. */
  reset(self) {
    this.list.replaceChildren();
    this.items.clear();
    this.selected = null;
    const li = this.#render(self, true);
    this.list.append(li);
    this.selfItem = li;
    this.#updateCount();
  }

  /** This participant's attributes changed. */
  updateSelf(self) {
    if (this.selfItem) this.#fill(this.selfItem, self, true);
  }

  /** A participant became present (or came back). */
  add(p) {
    const existing = this.items.get(p.id);
    if (existing) {
      existing.classList.remove('leaving');
      this.#fill(existing, p, false);
      return;
    }
    const li = this.#render(p, false);
    this.items.set(p.id, li);
    this.list.append(li);
    this.#updateCount();
  }

  /** The path to a participant changed (direct, relayed, reconnecting). */
  updateLink(p) {
    this.update(p);
  }

  /** A participant's attributes changed. */
  update(p) {
    const li = this.items.get(p.id);
    if (li) this.#fill(li, p, false);
  }

  /** A participant re-joined the server under a new id (it restarted): same row, same selection. */
  rename(previousId, p) {
    const li = this.items.get(previousId);
    if (!li) return;
    this.items.delete(previousId);
    this.items.set(p.id, li);
    li.dataset.participantId = p.id;
    if (this.selected === previousId) this.selected = p.id;
  }

  /** A participant is gone: it leaves the list (and the selection). */
  remove(id) {
    const li = this.items.get(id);
    if (!li) return;
    this.items.delete(id);
    li.remove();
    if (this.selected === id) this.select(null);
    this.#updateCount();
  }

  /** Marks `id` as the selected recipient, or nobody (everyone). */
  select(id) {
    const next = id !== null && this.items.has(id) ? id : null;
    this.selected = next;
    for (const [pid, li] of this.items) li.querySelector('button').setAttribute('aria-pressed', String(pid === next));
    this.onSelect(next);
  }

  #render(p, isSelf) {
    const li = this.template.content.firstElementChild.cloneNode(true);
    li.dataset.participantId = p.id;
    const button = li.querySelector('button');
    if (isSelf) {
      li.classList.add('me');
      button.disabled = true;
      button.removeAttribute('aria-pressed');
    } else {
      button.addEventListener('click', () => this.select(this.selected === p.id ? null : p.id));
    }
    this.#fill(li, p, isSelf);
    return li;
  }

  #fill(li, p, isSelf) {
    const avatar = li.querySelector('.avatar');
    avatar.textContent = initials(p.name);
    avatar.style.setProperty('--avatar', avatarColor(p.id));
    const name = li.querySelector('.person-name');
    name.textContent = displayName(p.name);
    if (isSelf) {
      const you = document.createElement('span');
      you.className = 'you';
      you.textContent = ' (you)';
      name.append(you);
    }
    const attrs = li.querySelector('.attrs');
    attrs.replaceChildren(
      ...Object.entries(p.attributes)
        .slice(0, MAX_ATTRS)
        .map(([key, value]) => attrChip(key, value)),
    );
    const channel = li.querySelector('.channel');
    const link = isSelf ? undefined : (LINK_STATES[p.linkState] ?? LINK_STATES.direct);
    channel.dataset.state = isSelf ? 'self' : p.linkState;
    channel.textContent = link?.text ?? '';
    channel.title = link?.title ?? '';
    const button = li.querySelector('button');
    const attrText = Object.entries(p.attributes)
      .map(([k, v]) => `${k} ${display(v)}`)
      .join(', ');
    button.setAttribute(
      'aria-label',
      `${displayName(p.name)}${isSelf ? ' (you)' : ''}${attrText ? `, ${attrText}` : ''}${link ? `, ${link.text}` : ''}`,
    );
  }

  #updateCount() {
    this.count.textContent = String(this.items.size + 1);
  }
}

function display(value) {
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  return s.length > MAX_ATTR_CHARS ? `${s.slice(0, MAX_ATTR_CHARS - 1)}…` : s;
}

function attrChip(key, value) {
  const chip = document.createElement('span');
  chip.className = 'attr';
  chip.dataset.key = key.slice(0, MAX_ATTR_CHARS);
  if (typeof value === 'string') chip.dataset.value = value.slice(0, MAX_ATTR_CHARS);
  chip.textContent =
    key === 'status' && typeof value === 'string' ? display(value) : `${display(key)}: ${display(value)}`;
  chip.title = `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`.slice(0, 500);
  return chip;
}
