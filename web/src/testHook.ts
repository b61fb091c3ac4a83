//! `window.__werktafel`: a small typed hook so browser tests wait on signals
//! (connection status, sync, stored offline edits) instead of on time.
import type { ConnectionStatus } from './connection'
import type { Color, Lane } from './schema'
import type { Control } from './control'
import type { BoardView, PosterArrow, PosterMarker } from './poster'
import type { ConsoleInfo } from './facilitation'
import type { Summary } from './plenary/summary'
import type { FeedStatus } from './plenary/summaryFeed'
import type { MarketInfo, Material, Tip } from './market/marketApi'

export interface HookNote {
  id: string; text: string; lane: Lane; color: Color; x: number; y: number; author: string
  owner?: string; due?: string; group?: string | null
  provenance?: { stand: string; tip: string } | null
}

/** The workshop side of a board: phase, drafts, groups, arrows, votes. */
export interface HookFacilitation {
  control (): Control
  /** Whether the board lets this participant edit now. */
  editable (): boolean
  /** This participant's private notes, not yet revealed. */
  drafts (): HookNote[]
  /** The drafts document is connected and synced (private writing can start). */
  draftsReady (): boolean
  groups (): Array<{ id: string; title: string; notes: string[] }>
  connectors (): Array<{ id: string; from: string; to: string; label: string }>
  /** The poster: the view shown, placed notes' positions, arrows and markers. */
  poster (): { view: BoardView; placed: Record<string, { x: number, y: number }>; arrows: PosterArrow[]; markers: PosterMarker[] }
  /** My votes as the server last said, and the published totals. */
  votes (): { budget: number; used: number; mine: Record<string, number>; totals: Record<string, number>; refusal: string }
}

export interface WerktafelHook {
  page: 'start' | 'board' | 'name' | 'error' | 'facilitator' | 'plenary' | 'lecture' | 'stand' | 'market'
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
  /** On a board: the workshop state (see HookFacilitation). */
  facilitation?: HookFacilitation
  /** On the facilitator console: the last overview the server gave. */
  console?: () => ConsoleInfo | null
  /** Plenary only: the last summary received from the live feed. */
  summary?: Summary | null
  /** Plenary only: whether the summary feed is live. */
  live?: FeedStatus
  /** A market stand: its tips, materials and the tips I marked useful. */
  stand?: () => { tips: Tip[]; materials: Material[]; mine: string[] }
  /** The start page: whether it shows the market or the tables. */
  startMode?: 'markt' | 'werktafels'
  /** The market overview: what the server last said. */
  market?: () => MarketInfo | null
  /** A board: the market tips of the linked teams, as the side panel shows them. */
  marketTips?: () => Array<Tip & { room: string }>
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
