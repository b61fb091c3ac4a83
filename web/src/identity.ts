//! Who this device is: a display name given once, the server-signed identity
//! (id + token) per event that votes and private drafts need, and a presence
//! colour derived from the id. Until the server has signed one (offline, or a
//! device from before signed identities), a random local id stands in.
import { withKey } from './access'

export interface Identity {
  id: string
  name: string
  color: string
  /** The server's signature on `id` and `name`; empty until it has answered. */
  token: string
}

/** As the server issued it; `expiresAt` in ms since the epoch (absent in old copies). */
interface Signed { id: string; name: string; token: string; expiresAt?: number }

const ID_KEY = 'werktafel.clientId'
const NAME_KEY = 'werktafel.name'
const signedKey = (event: string): string => `werktafel.identity.${event}`

/**
 * Colours that stay readable as outlines on every note colour and carry white
 * initials on avatars at 4.5:1 or more (WCAG AA for small text).
 */
const PRESENCE_COLORS = ['#c2410c', '#1971c2', '#237a35', '#9c36b5', '#c2255c', '#0b7285', '#5f3dc4', '#a85400']

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

/** The identity to use at `event`, or null when no name has been given yet. */
export function identity (event: string): Identity | null {
  const name = savedName()
  if (!name) return null
  const signed = storedSigned(event, name)
  const id = signed?.id ?? clientId()
  return { id, name, color: colorFor(id), token: signed?.token ?? '' }
}

const pending = new Map<string, Promise<Identity | null>>()

/**
 * The signed identity for the saved name at `event`, asking the server for
 * one when this device has none (or one for another name). Resolves to null
 * when the server cannot be reached or refuses (the plenary key); callers
 * carry on with the local id and try again later.
 */
export function ensureSigned (event: string): Promise<Identity | null> {
  const name = savedName()
  if (!name) return Promise.resolve(null)
  if (storedSigned(event, name)) return Promise.resolve(identity(event))
  const key = `${event}\n${name}`
  let p = pending.get(key)
  if (!p) {
    p = requestSigned(event, name).finally(() => pending.delete(key))
    pending.set(key, p)
  }
  return p
}

async function requestSigned (event: string, name: string): Promise<Identity | null> {
  try {
    // The server keeps a device's identity (its HttpOnly cookie, or the
    // token held here) and only renames it: one device, one voter.
    const held = storedSigned(event)?.token
    const res = await fetch(withKey(event, `/api/events/${encodeURIComponent(event)}/identity`), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      credentials: 'same-origin',
      body: JSON.stringify(held ? { name, token: held } : { name }),
    })
    if (!res.ok) return null
    const signed = await res.json() as Signed
    localStorage.setItem(signedKey(event), JSON.stringify(signed))
    return identity(event)
  } catch {
    return null
  }
}

/** The signed identity kept for `event` (for `name`, if given). */
function storedSigned (event: string, name?: string): Signed | null {
  try {
    const s = JSON.parse(localStorage.getItem(signedKey(event)) ?? 'null') as Signed | null
    if (!s || typeof s.token !== 'string' || !s.token) return null
    // An expired token is refused by the server; ask for a new one instead.
    if (typeof s.expiresAt === 'number' && s.expiresAt <= Date.now()) return null
    return name === undefined || s.name === name ? s : null
  } catch {
    return null
  }
}

/** Forgets the signed identity of `event` (its participant link was renewed). */
export function forgetSigned (event: string): void {
  localStorage.removeItem(signedKey(event))
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
