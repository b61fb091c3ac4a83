//! The Summary JSON the server sends (shared/src/summary.rs, camelCase), as TypeScript types.
import { LANES, type Color, type Lane } from '../schema'
import type { PosterArrow, PosterMarker } from '../poster'

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

export interface NextStep { table: string; tableTitle: string; noteId: string; text: string; author: string }

export interface Theme { term: string; tables: string[]; notes: { table: string; noteId: string }[]; count: number }

export interface Totals { notes: number; participants: number; tables: number; nextSteps: number; perLane: LaneCounts }

export interface Summary {
  event: string
  title: string
  tables: TableSummary[]
  nextSteps: NextStep[]
  themes: Theme[]
  totals: Totals
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
