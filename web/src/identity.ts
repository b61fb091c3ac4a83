//! Who this device is: a display name given once and a random client id,
//! both remembered in localStorage, plus a presence colour derived from the id.

export interface Identity {
  id: string
  name: string
  color: string
}

const ID_KEY = 'werktafel.clientId'
const NAME_KEY = 'werktafel.name'

/** Colours that stay readable as outlines on every note colour. */
const PRESENCE_COLORS = ['#d9480f', '#1971c2', '#2f9e44', '#9c36b5', '#c2255c', '#0c8599', '#5f3dc4', '#e67700']

export function clientId (): string {
  let id = localStorage.getItem(ID_KEY)
  if (!id || !/^[A-Za-z0-9_-]{8,32}$/.test(id)) {
    const bytes = crypto.getRandomValues(new Uint8Array(12))
    id = Array.from(bytes, b => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'[b & 63]).join('')
    localStorage.setItem(ID_KEY, id)
  }
  return id
}

export function savedName (): string {
  return (localStorage.getItem(NAME_KEY) ?? '').trim()
}

export function saveName (name: string): void {
  localStorage.setItem(NAME_KEY, name.trim().slice(0, 40))
}

/** The identity to use, or null when no name has been given yet. */
export function identity (): Identity | null {
  const name = savedName()
  if (!name) return null
  const id = clientId()
  return { id, name, color: colorFor(id) }
}

export function colorFor (id: string): string {
  let h = 0
  for (const c of id) h = (h * 31 + c.charCodeAt(0)) >>> 0
  return PRESENCE_COLORS[h % PRESENCE_COLORS.length]
}

export function initials (name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean)
  const letters = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : (parts[0] ?? '?').slice(0, 2)
  return letters.toUpperCase()
}
