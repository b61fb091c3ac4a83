//! Presence from Yjs awareness: who is at this table and who edits which note.
//! Every value comes from another client and is checked before it is shown:
//! a colour is `#rrggbb` or replaced, names and ids are text of bounded length.
import type { Awareness } from 'y-protocols/awareness'
import { initials, type Identity } from '../identity'
import { t } from '../i18n'

export interface Editor { id: string; name: string; color: string }

interface AwarenessState {
  user?: { id?: unknown; name?: unknown; color?: unknown }
  editing?: unknown
}

export class Presence {
  readonly element = document.createElement('div')
  private readonly listeners = new Set<() => void>()
  private readonly onAwareness = (): void => this.changed()

  constructor (private readonly awareness: Awareness, private me: Identity) {
    this.element.className = 'presence'
    this.element.setAttribute('role', 'list')
    awareness.setLocalState({ user: { id: me.id, name: me.name, color: me.color }, editing: null })
    awareness.on('change', this.onAwareness)
    this.render()
  }

  /** Takes on a new identity (the server-signed one, once it arrives). */
  setUser (me: Identity): void {
    this.me = me
    this.awareness.setLocalStateField('user', { id: me.id, name: me.name, color: me.color })
  }

  setEditing (noteId: string | null): void {
    this.awareness.setLocalStateField('editing', noteId)
  }

  /** Everyone at the table, one entry per person even with several tabs open. */
  people (): Editor[] {
    const byId = new Map<string, Editor>()
    for (const state of this.states()) {
      const u = user(state)
      if (u && !byId.has(u.id)) byId.set(u.id, u)
    }
    const list = [...byId.values()]
    return list.sort((a, b) => Number(b.id === this.me.id) - Number(a.id === this.me.id) || a.name.localeCompare(b.name))
  }

  /** Note id → the other people whose cursor is in that note. */
  editors (): Map<string, Editor[]> {
    const map = new Map<string, Editor[]>()
    for (const [clientId, state] of this.awareness.getStates() as Map<number, AwarenessState>) {
      if (clientId === this.awareness.clientID) continue
      const u = user(state)
      if (!u || typeof state.editing !== 'string' || state.editing.length > MAX_ID_LENGTH) continue
      const list = map.get(state.editing) ?? []
      if (!list.some(e => e.id === u.id)) list.push(u)
      map.set(state.editing, list)
    }
    return map
  }

  onChange (fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  render (): void {
    const people = this.people()
    this.element.setAttribute('aria-label', `${t('here')}: ${people.length}`)
    this.element.replaceChildren(...people.map(p => {
      const item = document.createElement('span')
      item.className = 'avatar'
      item.setAttribute('role', 'listitem')
      item.style.background = p.color
      item.textContent = initials(p.name)
      const name = p.id === this.me.id ? `${p.name} (${t('you')})` : p.name
      item.title = name
      item.setAttribute('aria-label', name)
      return item
    }))
  }

  destroy (): void {
    this.awareness.off('change', this.onAwareness)
    this.awareness.setLocalState(null)
    this.listeners.clear()
  }

  private states (): AwarenessState[] {
    return [...(this.awareness.getStates() as Map<number, AwarenessState>).values()]
  }

  private changed (): void {
    this.render()
    for (const fn of this.listeners) fn()
  }
}

/** The colour shown for a presence whose own is missing or not `#rrggbb`. */
const FALLBACK_COLOR = '#868e96'
/** Longer names are cut: a name is an avatar's initials and a tooltip. */
export const MAX_NAME_LENGTH = 60
const MAX_ID_LENGTH = 100

/** A presence's user as it may be rendered, or null when it is not one. */
export function user (state: AwarenessState | null | undefined): Editor | null {
  const u = state?.user
  if (!u || typeof u !== 'object') return null
  if (typeof u.id !== 'string' || u.id === '' || u.id.length > MAX_ID_LENGTH) return null
  const name = typeof u.name === 'string' ? plainText(u.name) : ''
  if (name === '') return null
  return { id: u.id, name, color: safeColor(u.color) }
}

/** `#rrggbb`, the only colour a presence may set (no `url(…)`, no CSS). */
export function safeColor (color: unknown): string {
  return typeof color === 'string' && /^#[0-9a-fA-F]{6}$/.test(color) ? color : FALLBACK_COLOR
}

/** One line of text without control characters, at most MAX_NAME_LENGTH characters. */
function plainText (s: string): string {
  return [...s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ').trim()].slice(0, MAX_NAME_LENGTH).join('')
}
