//! The lecture board's document (room `zaal`, docs/schema.md "The lecture board"): the
//! only web file that knows its key names. Clients write `insights`; the server alone
//! writes the +1 totals (`votes`) and the pins (`control.pins`).
import * as Y from 'yjs'
import { newNoteId, num, str } from '../schema'
import { MAX_INSIGHT_CHARS } from '../dayApi'

export const LECTURE_ROOM = 'zaal'
/** What an item is; anything else reads as the first. */
export const INSIGHT_KINDS = ['inzicht', 'vraag'] as const
export type InsightKind = typeof INSIGHT_KINDS[number]

export interface Insight {
  id: string
  text: string
  kind: InsightKind
  author: string
  authorId: string
  createdAt: number
  plusOnes: number
  /** Position among the pins (0 first), or null. */
  pinned: number | null
}

export class LectureDoc {
  readonly insights: Y.Map<Y.Map<unknown>>
  readonly votes: Y.Map<unknown>
  readonly control: Y.Map<unknown>

  constructor (readonly doc: Y.Doc) {
    this.insights = doc.getMap('insights')
    this.votes = doc.getMap('votes')
    this.control = doc.getMap('control')
  }

  /** Every insight: pinned ones in pin order first, then by +1s, then oldest first. */
  all (): Insight[] {
    const pins = this.pins()
    const items: Insight[] = []
    this.insights.forEach((m, id) => {
      if (!(m instanceof Y.Map)) return
      const at = pins.indexOf(id)
      items.push({
        id,
        text: str(m.get('text')).trim().slice(0, MAX_INSIGHT_CHARS),
        kind: m.get('kind') === 'vraag' ? 'vraag' : 'inzicht',
        author: str(m.get('author')),
        authorId: str(m.get('authorId')),
        createdAt: num(m.get('createdAt')),
        plusOnes: num(this.votes.get(id)),
        pinned: at >= 0 ? at : null,
      })
    })
    return items.sort((a, b) =>
      (a.pinned ?? Infinity) - (b.pinned ?? Infinity) || b.plusOnes - a.plusOnes || a.createdAt - b.createdAt || a.id.localeCompare(b.id))
  }

  pins (): string[] {
    const pins = this.control.get('pins')
    return Array.isArray(pins) ? pins.filter((p): p is string => typeof p === 'string') : []
  }

  /** Adds an insight as this device's author; returns its id. */
  add (text: string, kind: InsightKind, author: string, authorId: string): string {
    const id = newNoteId()
    const m = new Y.Map<unknown>()
    m.set('text', text.trim().slice(0, MAX_INSIGHT_CHARS))
    m.set('kind', kind)
    m.set('author', author)
    m.set('authorId', authorId)
    m.set('createdAt', Date.now())
    this.insights.set(id, m)
    return id
  }

  onChange (fn: () => void): () => void {
    const handler = (): void => fn()
    this.doc.on('update', handler)
    return () => this.doc.off('update', handler)
  }
}
