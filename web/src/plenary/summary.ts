//! The Summary JSON the server sends (shared/src/summary.rs, camelCase), as TypeScript types.
import { LANES, type Color, type Lane } from '../schema'
import type { PosterArrow, PosterMarker } from '../poster'
import type { ClosingStep } from '../dayApi'

export { LANES }

export interface LaneCounts { goed: number; doorpakken: number; vervolgstap: number }

export interface NoteView {
  id: string
  text: string
  lane: Lane
  /** Empty when the note has no author or the summary is anonymous. */
  author: string
  color: Color
  createdAt: number
  updatedAt: number
  /** Where the note sits on the poster (top-left, poster units), when placed. */
  poster?: { x: number, y: number }
}

export interface TableSummary {
  id: string
  title: string
  question: string
  participants: number
  noteCount: number
  laneCounts: LaneCounts
  /** Each lane in rank order, strongest first. */
  lanes: Record<Lane, NoteView[]>
  /** How the table is shown now. */
  view: 'lanes' | 'poster'
  /** For a poster table (or one with anything on the poster): its arrows and markers. */
  poster?: { arrows: PosterArrow[], markers: PosterMarker[] }
}

export interface NextStep { table: string; tableTitle: string; noteId: string; text: string; author: string; owner: string; due: string }

/** Where a note of the day comes from (shared/src/summary/themes.rs `Origin`). */
export type Origin = { kind: 'table'; id: string } | { kind: 'stand'; team: number } | { kind: 'lecture' }

export interface Theme { term: string; tables: string[]; origins: Origin[]; notes: { origin: Origin; noteId: string }[]; count: number }

/** A stand's tip or a lecture insight (shared/src/day.rs `BoardItem`). */
export interface BoardItem { id: string; text: string; kind: string; author: string; createdAt: number; plusOnes: number; pinned: number | null }
export interface StandSummary { team: number; name: string; tipCount: number; topTips: BoardItem[] }
export interface LectureSummary { count: number; pinned: BoardItem[]; top: BoardItem[] }
export interface ClosingStepView extends ClosingStep { sourceLabel: string }

export interface Totals { notes: number; participants: number; tables: number; nextSteps: number; perLane: LaneCounts }

export interface Summary {
  event: string
  title: string
  tables: TableSummary[]
  nextSteps: NextStep[]
  themes: Theme[]
  totals: Totals
  market: StandSummary[]
  lecture: LectureSummary
  closingSteps: ClosingStepView[]
}

/** The note with this id at this table, if the summary still has it. */
export function findNote (summary: Summary, table: string, id: string): { table: TableSummary; note: NoteView } | null {
  const t = summary.tables.find(t => t.id === table)
  if (!t) return null
  for (const lane of LANES) {
    const note = t.lanes[lane].find(n => n.id === id)
    if (note) return { table: t, note }
  }
  return null
}
