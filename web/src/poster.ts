//! The TypeScript side of the poster layer in docs/schema.md (schema version 2):
//! arrows and "tussenstap"/"actor" markers on the droomproces poster. Note
//! positions on the poster are note keys, in schema.ts. Readers keep the
//! oldest MAX_POSTER_ARROWS / MAX_POSTER_MARKERS and cut labels, as the Rust
//! side does, so every client and export shows the same items.
import * as Y from 'yjs'
import { clamp, isNoteId, newNoteId, num, posterPoint, POSTER_HEIGHT, POSTER_WIDTH, str } from './schema'

export const MAX_POSTER_ARROWS = 200
export const MAX_POSTER_MARKERS = 200
export const MAX_MARKER_LABEL_CHARS = 60
/** A note's size on the poster, in poster units (as the SVG export draws it). */
export const POSTER_NOTE_WIDTH = 150
export const POSTER_NOTE_HEIGHT = 90

export const VIEWS = ['lanes', 'poster'] as const
export type BoardView = (typeof VIEWS)[number]
export const MARKER_KINDS = ['tussenstap', 'actor'] as const
export type MarkerKind = (typeof MARKER_KINDS)[number]

export type ArrowEnd = { kind: 'note', id: string } | { kind: 'point', x: number, y: number }
export interface PosterArrow { id: string; from: string; to: ArrowEnd; author: string; createdAt: number }
export interface PosterMarker { id: string; kind: MarkerKind; label: string; x: number; y: number; author: string; createdAt: number }

export class PosterDoc {
  readonly arrows: Y.Map<Y.Map<unknown>>
  readonly markers: Y.Map<Y.Map<unknown>>

  constructor (readonly doc: Y.Doc) {
    this.arrows = doc.getMap('posterArrows')
    this.markers = doc.getMap('posterMarkers')
  }

  allArrows (): PosterArrow[] {
    const out: PosterArrow[] = []
    for (const [id, a] of this.arrows.entries()) {
      if (!(a instanceof Y.Map)) continue
      const from = str(a.get('from'))
      if (!from) continue
      const toId = str(a.get('to'))
      const point = posterPoint(a.get('toX'), a.get('toY'))
      const to: ArrowEnd | null = toId ? { kind: 'note', id: toId } : point ? { kind: 'point', ...point } : null
      if (!to) continue
      out.push({ id, from, to, author: str(a.get('author')), createdAt: num(a.get('createdAt')) })
    }
    return oldest(out, MAX_POSTER_ARROWS)
  }

  allMarkers (): PosterMarker[] {
    const out: PosterMarker[] = []
    for (const [id, m] of this.markers.entries()) {
      if (!(m instanceof Y.Map)) continue
      const kind = m.get('kind')
      if (!isMarkerKind(kind)) continue
      const at = posterPoint(num(m.get('x')), num(m.get('y'))) ?? { x: 0, y: 0 }
      out.push({ id, kind, label: cutLabel(str(m.get('label'))), ...at, author: str(m.get('author')), createdAt: num(m.get('createdAt')) })
    }
    return oldest(out, MAX_POSTER_MARKERS)
  }

  /** Draws an arrow from a note; call inside a transaction with the local origin. */
  addArrow (from: string, to: ArrowEnd, author: string): string | null {
    if (!isNoteId(from) || this.allArrows().length >= MAX_POSTER_ARROWS) return null
    const id = newNoteId()
    const a = new Y.Map<unknown>()
    a.set('from', from)
    if (to.kind === 'note') a.set('to', to.id)
    else { a.set('toX', Math.round(clamp(to.x, 0, POSTER_WIDTH))); a.set('toY', Math.round(clamp(to.y, 0, POSTER_HEIGHT))) }
    a.set('author', author)
    a.set('createdAt', Date.now())
    this.arrows.set(id, a)
    return id
  }

  addMarker (kind: MarkerKind, label: string, x: number, y: number, author: string): string | null {
    if (this.allMarkers().length >= MAX_POSTER_MARKERS) return null
    const id = newNoteId()
    const m = new Y.Map<unknown>()
    m.set('kind', kind)
    m.set('label', cutLabel(label))
    m.set('x', Math.round(clamp(x, 0, POSTER_WIDTH)))
    m.set('y', Math.round(clamp(y, 0, POSTER_HEIGHT)))
    m.set('author', author)
    m.set('createdAt', Date.now())
    this.markers.set(id, m)
    return id
  }

  moveMarker (id: string, x: number, y: number): void {
    const m = this.markers.get(id)
    if (!m) return
    m.set('x', Math.round(clamp(x, 0, POSTER_WIDTH)))
    m.set('y', Math.round(clamp(y, 0, POSTER_HEIGHT)))
  }

  setLabel (id: string, label: string): void {
    this.markers.get(id)?.set('label', cutLabel(label))
  }

  removeMarker (id: string): void { this.markers.delete(id) }
  removeArrow (id: string): void { this.arrows.delete(id) }

  /** Arrows that start or end at a note that went away are removed with it. */
  removeArrowsOf (noteId: string): void {
    for (const a of this.allArrows()) {
      if (a.from === noteId || (a.to.kind === 'note' && a.to.id === noteId)) this.arrows.delete(a.id)
    }
  }
}

export function isMarkerKind (v: unknown): v is MarkerKind {
  return typeof v === 'string' && (MARKER_KINDS as readonly string[]).includes(v)
}

export function isView (v: unknown): v is BoardView {
  return typeof v === 'string' && (VIEWS as readonly string[]).includes(v)
}

export function cutLabel (label: string): string {
  return [...label].slice(0, MAX_MARKER_LABEL_CHARS).join('')
}

/** Oldest first (ties by id), at most `cap`: the same ones the Rust readers keep. */
function oldest<T extends { id: string, createdAt: number }> (items: T[], cap: number): T[] {
  return items.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, cap)
}
