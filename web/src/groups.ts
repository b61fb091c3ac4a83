//! The TypeScript side of `groups` and `connectors` in docs/schema.md:
//! named clusters of notes and arrows between notes or groups.
import * as Y from 'yjs'
import { asColor, asLane, clamp, isNoteId, LANE_WIDTH, newNoteId, num, str, type Color, type Lane } from './schema'

/** A group's width in board units: one note wide, plus its frame. */
export const GROUP_WIDTH = 184

export interface GroupView { id: string; title: string; lane: Lane; color: Color; x: number; y: number }
export interface ConnectorView { id: string; from: string; to: string; label: string; author: string }

export class GroupsDoc {
  readonly groups: Y.Map<Y.Map<unknown>>
  readonly connectors: Y.Map<Y.Map<unknown>>

  constructor (readonly doc: Y.Doc) {
    this.groups = doc.getMap('groups')
    this.connectors = doc.getMap('connectors')
  }

  allGroups (): GroupView[] {
    const out: GroupView[] = []
    for (const [id, g] of this.groups.entries()) {
      if (!isNoteId(id) || !(g instanceof Y.Map)) continue
      out.push({ id, title: str(g.get('title')), lane: asLane(g.get('lane')), color: asColor(g.get('color')), x: num(g.get('x')), y: num(g.get('y')) })
    }
    return out
  }

  title (id: string): Y.Text | undefined {
    const t = this.groups.get(id)?.get('title')
    return t instanceof Y.Text ? t : undefined
  }

  /** Creates a group; call inside a transaction with the local origin. */
  createGroup (lane: Lane, x: number, y: number, title = ''): string {
    const id = newNoteId()
    const g = new Y.Map<unknown>()
    g.set('title', new Y.Text(title))
    g.set('lane', lane)
    g.set('color', 'geel')
    g.set('x', Math.round(x))
    g.set('y', Math.round(y))
    g.set('createdAt', Date.now())
    this.groups.set(id, g)
    return id
  }

  moveGroup (id: string, lane: Lane, x: number, y: number): void {
    const g = this.groups.get(id)
    if (!g) return
    if (g.get('lane') !== lane) g.set('lane', lane)
    g.set('x', Math.round(clamp(x, 0, LANE_WIDTH - GROUP_WIDTH)))
    g.set('y', Math.round(Math.max(0, y)))
  }

  /** Deletes a group; the caller clears `group` on its notes in the same transaction. */
  removeGroup (id: string): void {
    this.groups.delete(id)
  }

  allConnectors (): ConnectorView[] {
    const out: ConnectorView[] = []
    for (const [id, c] of this.connectors.entries()) {
      if (!(c instanceof Y.Map)) continue
      const from = str(c.get('from'))
      const to = str(c.get('to'))
      if (from && to) out.push({ id, from, to, label: str(c.get('label')), author: str(c.get('author')) })
    }
    return out
  }

  label (id: string): Y.Text | undefined {
    const t = this.connectors.get(id)?.get('label')
    return t instanceof Y.Text ? t : undefined
  }

  createConnector (from: string, to: string, author: string): string {
    const id = newNoteId()
    const c = new Y.Map<unknown>()
    c.set('from', from)
    c.set('to', to)
    c.set('label', new Y.Text())
    c.set('author', author)
    c.set('createdAt', Date.now())
    this.connectors.set(id, c)
    return id
  }

  removeConnector (id: string): void {
    this.connectors.delete(id)
  }
}
