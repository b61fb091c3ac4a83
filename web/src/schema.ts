//! The TypeScript side of docs/schema.md: the only module that knows the
//! document's key names. Everything else reads and writes notes through here.
//! Its names are tested against shared/schema/schema.json, as the Rust side's
//! are (tests/e2e/schema.test.mjs).
import * as Y from 'yjs'

export const SCHEMA_VERSION = 1

/** Board units: a lane is this many units wide (1 unit = 1 CSS px at 100 %). */
export const LANE_WIDTH = 360
/** A note's width in board units; two notes fit side by side in a lane. */
export const NOTE_WIDTH = 168

export const LANES = ['goed', 'doorpakken', 'vervolgstap'] as const
export type Lane = (typeof LANES)[number]

export const COLORS = ['geel', 'roze', 'blauw', 'groen', 'oranje', 'paars'] as const
export type Color = (typeof COLORS)[number]

export interface Cluster { id: string; title: string; question: string }
export interface Case { name: string; city: string }
export interface Team { number: number; name: string; focus: string[] }

/** What the server writes into `meta` once, from the event definition. */
export interface TableMeta {
  tableId: string
  title: string
  question: string
  cluster: Cluster | null
  cases: Case[]
  teams: Team[]
}

/** A plain snapshot of one note, as the UI renders it. */
export interface NoteView {
  id: string
  text: string
  lane: Lane
  color: Color
  x: number
  y: number
  author: string
  authorId: string
  createdAt: number
  updatedAt: number
  /** For a next step: who takes it on (wie); empty when unset. */
  owner: string
  /** For a next step: when (wanneer), as people write it; empty when unset. */
  due: string
  /** The group the note is clustered into, or null. */
  group: string | null
  /** The market tip the note was brought in from, or null. */
  provenance: Provenance | null
}

/** A note's link to a market tip: the stand's room name and the tip's id. */
export interface Provenance { stand: string; tip: string }

/** The two free-text fields of a next step. */
export type NextStepField = 'owner' | 'due'

export interface NewNote {
  lane: Lane
  color: Color
  x: number
  y: number
  author: string
  authorId: string
  text?: string
  provenance?: Provenance | null
}

/** The two top-level maps of a table document. */
export class TableDoc {
  readonly meta: Y.Map<unknown>
  readonly notes: Y.Map<Y.Map<unknown>>

  constructor (readonly doc: Y.Doc) {
    this.meta = doc.getMap('meta')
    this.notes = doc.getMap('notes')
  }

  readMeta (): TableMeta {
    const m = this.meta
    return {
      tableId: str(m.get('tableId')),
      title: str(m.get('title')),
      question: str(m.get('question')),
      cluster: (m.get('cluster') as Cluster | undefined) ?? null,
      cases: Array.isArray(m.get('cases')) ? (m.get('cases') as Case[]) : [],
      teams: Array.isArray(m.get('teams')) ? (m.get('teams') as Team[]) : [],
    }
  }

  noteIds (): string[] {
    return [...this.notes.keys()].filter(isNoteId)
  }

  note (id: string): Y.Map<unknown> | undefined {
    return this.notes.get(id)
  }

  text (id: string): Y.Text | undefined {
    const t = this.notes.get(id)?.get('text')
    return t instanceof Y.Text ? t : undefined
  }

  readNote (id: string): NoteView | undefined {
    const n = this.notes.get(id)
    if (!(n instanceof Y.Map)) return undefined
    const text = n.get('text')
    return {
      id,
      text: text instanceof Y.Text ? text.toString() : '',
      lane: asLane(n.get('lane')),
      color: asColor(n.get('color')),
      x: num(n.get('x')),
      y: num(n.get('y')),
      author: str(n.get('author')),
      authorId: str(n.get('authorId')),
      createdAt: num(n.get('createdAt')),
      updatedAt: num(n.get('updatedAt')),
      owner: str(n.get('owner')),
      due: str(n.get('due')),
      group: str(n.get('group')) || null,
      provenance: asProvenance(n.get('provenance')),
    }
  }

  allNotes (): NoteView[] {
    return this.noteIds().map(id => this.readNote(id)).filter((n): n is NoteView => n !== undefined)
  }

  /** Creates a note; call inside a transaction with the local origin. */
  createNote (n: NewNote): string {
    const id = newNoteId()
    const now = Date.now()
    const note = new Y.Map<unknown>()
    const text = new Y.Text()
    if (n.text) text.insert(0, n.text)
    note.set('text', text)
    note.set('lane', n.lane)
    note.set('color', n.color)
    note.set('x', Math.round(n.x))
    note.set('y', Math.round(n.y))
    note.set('author', n.author)
    note.set('authorId', n.authorId)
    note.set('createdAt', now)
    note.set('updatedAt', now)
    if (n.provenance) note.set('provenance', { stand: n.provenance.stand, tip: n.provenance.tip })
    this.notes.set(id, note)
    return id
  }

  /** Moves a note to a lane and position (in board units). */
  move (id: string, lane: Lane, x: number, y: number): void {
    const n = this.notes.get(id)
    if (!n) return
    if (n.get('lane') !== lane) n.set('lane', lane)
    n.set('x', Math.round(clamp(x, 0, LANE_WIDTH - NOTE_WIDTH)))
    n.set('y', Math.round(Math.max(0, y)))
    touch(n)
  }

  setColor (id: string, color: Color): void {
    const n = this.notes.get(id)
    if (!n) return
    n.set('color', color)
    touch(n)
  }

  setNextStep (id: string, field: NextStepField, value: string): void {
    const n = this.notes.get(id)
    if (!n || n.get(field) === value) return
    n.set(field, value.slice(0, 80))
    touch(n)
  }

  /** Puts a note into a group, or takes it out with null. */
  setGroup (id: string, group: string | null): void {
    const n = this.notes.get(id)
    if (!n) return
    if (group) n.set('group', group)
    else if (n.has('group')) n.delete('group')
  }

  /** Marks a note as edited now (used after text edits). */
  touch (id: string): void {
    const n = this.notes.get(id)
    if (n) touch(n)
  }

  remove (id: string): void {
    this.notes.delete(id)
  }
}

/** A provenance as stored (a plain `{ stand, tip }`), or null for anything else. */
export function asProvenance (v: unknown): Provenance | null {
  if (typeof v !== 'object' || v === null) return null
  const { stand, tip } = v as Record<string, unknown>
  return typeof stand === 'string' && stand && typeof tip === 'string' && tip ? { stand, tip } : null
}

export function isLane (v: unknown): v is Lane {
  return typeof v === 'string' && (LANES as readonly string[]).includes(v)
}

export function isColor (v: unknown): v is Color {
  return typeof v === 'string' && (COLORS as readonly string[]).includes(v)
}

/** Unknown or missing lanes are shown in `goed`, as the schema says. */
export function asLane (v: unknown): Lane {
  return isLane(v) ? v : 'goed'
}

/** Unknown colours are shown as `geel`, as the schema says. */
export function asColor (v: unknown): Color {
  return isColor(v) ? v : 'geel'
}

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'

/** A random note id of 16 characters from the schema's alphabet. */
export function newNoteId (): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return Array.from(bytes, b => ID_ALPHABET[b & 63]).join('')
}

export function isNoteId (id: string): boolean {
  return /^[A-Za-z0-9_-]{8,32}$/.test(id)
}

function touch (n: Y.Map<unknown>): void {
  n.set('updatedAt', Date.now())
}

/** A plain string; a Y.Text where a string is expected is read as its content. */
export function str (v: unknown): string {
  return typeof v === 'string' ? v : v instanceof Y.Text ? v.toString() : ''
}

export function num (v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0
}

export function clamp (v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v))
}
