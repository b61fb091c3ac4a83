//! The server's facilitation API as typed fetches: the console overview, the
//! facilitator's controls, a participant's votes and the QR code links.
import { withKey } from './access'
import type { Control, Phase, VoteVisibility } from './control'

export interface ConsoleTable {
  id: string
  title: string
  people: number
  notes: number
  drafts: number
  control: Control
  /** Signed identities connected to the table now. */
  identities: number
  /** Signed identities with votes here, and how many of them are connected now. */
  voters: number
  votersPresent: number
  votes: number
  /** Lanes or poster as shown now: the facilitator's choice, else the event file's. */
  view: 'lanes' | 'poster'
}
export interface ConsoleInfo { now: number; tables: ConsoleTable[] }

/** What a control request may change; every field is optional. */
export interface ControlChange {
  phase?: Phase
  locked?: boolean
  /** Minutes from now; 0 stops the timer. */
  timerMinutes?: number
  privateWriting?: boolean
  reveal?: true
  voteBudget?: number
  voteVisibility?: VoteVisibility
  view?: 'lanes' | 'poster'
}

export interface MyVotes { budget: number; used: number; mine: Record<string, number> }

/** A refusal from the server, with the message it gave. */
/** The server said no; `code` is its stable reason (e.g. a vote's `budget`, `phase`). */
export class Refused extends Error {
  constructor (readonly status: number, message: string, readonly code: string = '') { super(message) }
}

const base = (event: string): string => `/api/events/${encodeURIComponent(event)}`

export async function fetchConsole (event: string, signal?: AbortSignal): Promise<ConsoleInfo> {
  return await call<ConsoleInfo>(withKey(event, `${base(event)}/console`), { signal })
}

export async function sendControl (event: string, tables: string[] | 'all', change: ControlChange): Promise<Array<{ id: string; control: Control }>> {
  const body = JSON.stringify({ tables, ...change })
  const res = await call<{ tables: Array<{ id: string; control: Control }> }>(withKey(event, `${base(event)}/control`), { method: 'POST', body })
  return res.tables
}

export async function fetchMyVotes (event: string, table: string, token: string): Promise<MyVotes> {
  const path = `${base(event)}/tables/${encodeURIComponent(table)}/votes?token=${encodeURIComponent(token)}`
  return await call<MyVotes>(withKey(event, path), {})
}

export async function castVote (event: string, table: string, token: string, noteId: string, delta: 1 | -1): Promise<MyVotes> {
  const path = `${base(event)}/tables/${encodeURIComponent(table)}/votes`
  return await call<MyVotes>(withKey(event, path), { method: 'POST', body: JSON.stringify({ token, noteId, delta }) })
}

/** The address of the participant link's QR code (the start page, or one table);
 *  `version` changes the address when the link is renewed. */
export function qrUrl (event: string, table?: string, version?: number): string {
  const query = new URLSearchParams()
  if (table) query.set('table', table)
  if (version !== undefined) query.set('v', String(version))
  const q = query.toString()
  return withKey(event, `${base(event)}/qr.svg${q ? `?${q}` : ''}`)
}

export interface Renewed { participantLink: string; generation: number }

/** Renews the participant link (facilitator): the old link, its identities and connections stop working. */
export async function renewParticipantKey (event: string): Promise<Renewed> {
  return await call<Renewed>(withKey(event, `${base(event)}/keys/rotate`), { method: 'POST', body: '{}' })
}

export async function call<T> (url: string, init: RequestInit): Promise<T> {
  const res = await fetch(url, {
    ...init,
    headers: { accept: 'application/json', ...(init.body ? { 'content-type': 'application/json' } : {}) },
  })
  if (!res.ok) {
    let message = `${res.status}`
    let code = ''
    try {
      const body = (await res.json()) as { error?: string, code?: string }
      message = body.error ?? message
      code = body.code ?? ''
    } catch { /* not JSON */ }
    throw new Refused(res.status, message, code)
  }
  if (res.status === 204) return undefined as T
  return await res.json() as T
}
