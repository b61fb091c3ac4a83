//! The event's access key. A link carries it as `?key=…`; the app keeps it
//! per event in localStorage, takes it out of the address bar (so it is not
//! shown on a projector or copied by accident), and adds it to every API
//! request and sync connection.

import { forgetSigned } from './identity'

const storageKey = (event: string): string => `werktafel.key.${event}`

/** Remembers the key of the current link, if it has one, and hides it. */
export function adoptKeyFromUrl (event: string): void {
  const params = new URLSearchParams(location.search)
  const key = params.get('key')
  if (!key) return
  // A new participant link (the facilitator renewed it) revokes the
  // identities signed under the old one: ask for a new one.
  const before = localStorage.getItem(storageKey(event))
  if (before !== null && before !== key) forgetSigned(event)
  localStorage.setItem(storageKey(event), key)
  params.delete('key')
  const rest = params.toString()
  history.replaceState(history.state, '', location.pathname + (rest ? `?${rest}` : '') + location.hash)
}

export function accessKey (event: string): string {
  return localStorage.getItem(storageKey(event)) ?? ''
}

/** `path` with the event's key added to its query. */
export function withKey (event: string, path: string): string {
  const sep = path.includes('?') ? '&' : '?'
  return `${path}${sep}key=${encodeURIComponent(accessKey(event))}`
}
