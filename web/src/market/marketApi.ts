//! The market's HTTP API as typed fetches: the overview, uploads, useful
//! marks and the start page's view.
import { withKey } from '../access'
import { Refused } from '../facilitation'

export interface Team { number: number; name: string; focus: string[] }
export interface Tip { id: string; kind: 'tip' | 'vraag'; text: string; author: string; authorId: string; createdAt: number; useful: number }
export interface Material { id: string; kind: string; title: string; url: string; file: string; mime: string; size: number; author: string; createdAt: number }
export interface StandInfo {
  room: string
  team: Team
  status: string
  ambitions: string
  materials: Material[]
  tips: Tip[]
  counts: { tips: number; questions: number; useful: number; materials: number }
}
export interface FreshTip extends Tip { room: string; team: number; teamName: string }
export interface MarketInfo { title: string; stands: StandInfo[]; fresh: FreshTip[] }
export type StartView = 'auto' | 'markt' | 'werktafels'

const base = (event: string): string => `/api/events/${encodeURIComponent(event)}`

/** The room name of team `n`'s stand. */
export const standRoom = (n: number): string => `markt-ot${n}`

export async function fetchMarket (event: string, signal?: AbortSignal): Promise<MarketInfo> {
  return await call<MarketInfo>(withKey(event, `${base(event)}/market`), { signal })
}

export async function uploadFile (event: string, room: string, token: string, file: File): Promise<{ url: string; name: string }> {
  const query = new URLSearchParams({ name: file.name, token })
  const url = withKey(event, `${base(event)}/stands/${encodeURIComponent(room)}/files?${query.toString()}`)
  return await call(url, { method: 'POST', body: file, headers: { 'content-type': 'application/octet-stream' } })
}

export async function myMarks (event: string, room: string, token: string): Promise<string[]> {
  const path = `${base(event)}/stands/${encodeURIComponent(room)}/useful?token=${encodeURIComponent(token)}`
  return (await call<{ mine: string[] }>(withKey(event, path), {})).mine
}

export async function markUseful (event: string, room: string, token: string, tipId: string, useful: boolean): Promise<string[]> {
  const path = `${base(event)}/stands/${encodeURIComponent(room)}/useful`
  const body = JSON.stringify({ token, tipId, useful })
  return (await call<{ mine: string[] }>(withKey(event, path), { method: 'POST', body, headers: { 'content-type': 'application/json' } })).mine
}

export async function setStartView (event: string, view: StartView): Promise<void> {
  const body = JSON.stringify({ view })
  await call(withKey(event, `${base(event)}/start-view`), { method: 'POST', body, headers: { 'content-type': 'application/json' } })
}

/** A stand file's address with the access key (an <img> or link sends no other). */
export function fileUrl (event: string, url: string): string {
  return url.startsWith('/api/') ? withKey(event, url) : url
}

async function call<T> (url: string, init: RequestInit): Promise<T> {
  const res = await fetch(url, { ...init, headers: { accept: 'application/json', ...(init.headers as Record<string, string> ?? {}) } })
  if (!res.ok) {
    let message = `${res.status}`
    try { message = ((await res.json()) as { error?: string }).error ?? message } catch { /* not JSON */ }
    throw new Refused(res.status, message)
  }
  return await res.json() as T
}
