//! `window.__werktafel`: a small typed hook so browser tests wait on signals
//! (connection status, sync, stored offline edits) instead of on time.
import type { ConnectionStatus } from './connection'
import type { Color, Lane } from './schema'
import type { Summary } from './plenary/summary'
import type { FeedStatus } from './plenary/summaryFeed'

export interface HookNote { id: string; text: string; lane: Lane; color: Color; x: number; y: number; author: string }

export interface WerktafelHook {
  page: 'start' | 'board' | 'name' | 'plenary' | 'error'
  event: string
  table: string | null
  status: ConnectionStatus
  /** The server's state has arrived since the last (re)connect. */
  synced: boolean
  /** The IndexedDB copy has been loaded. */
  localLoaded: boolean
  /** The start page has rendered the event's tables at least once. */
  ready: boolean
  notes (): HookNote[]
  /** Names of everyone at this table according to awareness. */
  people (): string[]
  /** Resolves when all edits so far are in IndexedDB. */
  whenStored (): Promise<void>
  /** Stops / resumes syncing with the server (edits keep going to IndexedDB). */
  disconnect (): void
  connect (): void
  /** Plenary only: the last summary received from the live feed. */
  summary?: Summary | null
  /** Plenary only: whether the summary feed is live. */
  live?: FeedStatus
}

declare global {
  interface Window { __werktafel?: WerktafelHook }
}

export function setHook (hook: WerktafelHook): void {
  window.__werktafel = hook
}

export function idleHook (page: WerktafelHook['page'], event: string): WerktafelHook {
  return {
    page,
    event,
    table: null,
    status: 'disconnected',
    synced: false,
    localLoaded: false,
    ready: false,
    notes: () => [],
    people: () => [],
    whenStored: async () => {},
    disconnect: () => {},
    connect: () => {},
  }
}
