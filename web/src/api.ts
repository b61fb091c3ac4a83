//! The server's HTTP API as typed fetches.
import type { Case, Cluster } from './schema'
import { withKey } from './access'

export interface ProgrammeItem { start: string; end: string; title: string; kind: string; description: string }
export interface EventTeam { number: number; name: string; focus: string[] }
export interface EventTable {
  id: string
  title: string
  question: string
  cluster: Cluster
  cases: Case[]
  teams: number[]
  /** How the table opens until the facilitator switches it. */
  view?: 'lanes' | 'poster'
  noteCount: number
  people: number
}
export interface EventInfo {
  slug: string
  title: string
  venue: string
  description: string
  programme: ProgrammeItem[]
  teams: EventTeam[]
  tables: EventTable[]
  /** The server's clock (ms since the epoch) when it answered. */
  now?: number
  /** What the key this page was opened with may do. */
  role?: 'participant' | 'viewer' | 'facilitator'
  /** The morning market: whether there is one, its title and the teams with a stand. */
  hasMarket?: boolean
  marketInfo?: { title: string; stands: number[] }
  hasLecture?: boolean
  /** What the facilitator set the start page to show. */
  startView?: 'auto' | 'markt' | 'werktafels'
}

let offset = 0

/** The server's time now, as far as the last answer tells: device clocks drift. */
export function serverNow (): number {
  return Date.now() + offset
}

export class NotFound extends Error {}
/** The request carried no valid key: the person needs the event's link. */
export class NoAccess extends Error {}

export async function fetchEvent (slug: string, signal?: AbortSignal): Promise<EventInfo> {
  const res = await fetch(withKey(slug, `/api/events/${encodeURIComponent(slug)}`), { signal, headers: { accept: 'application/json' } })
  if (res.status === 404) throw new NotFound(slug)
  if (res.status === 403) throw new NoAccess(slug)
  if (!res.ok) throw new Error(`GET /api/events/${slug}: ${res.status}`)
  const info = await res.json() as EventInfo
  if (typeof info.now === 'number') offset = info.now - Date.now()
  return info
}
