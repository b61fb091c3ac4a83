//! The lanes with everything on them: the table's notes, the participant's
//! own drafts, groups holding their notes, and the arrows drawn over it all.
//! `sync` brings the DOM in line with the documents; `layout` places it.
import { LANES, type Lane } from '../schema'
import type { Edits } from './edits'
import { ConnectorLayer } from './connectorLayer'
import { GroupElement, type GroupActions } from './groupElement'
import { LaneView, type Placeable } from './lane'
import { NoteElement, type NoteActions } from './note'

export class Surface {
  readonly element = document.createElement('main')
  readonly lanes: LaneView[]
  readonly notes = new Map<string, NoteElement>()
  readonly groups = new Map<string, GroupElement>()
  readonly connectors: ConnectorLayer

  constructor (
    private readonly edits: Edits,
    onAdd: (lane: Lane) => void,
    private readonly noteActions: NoteActions,
    private readonly groupActions: GroupActions,
    say: (message: string) => void,
  ) {
    this.lanes = LANES.map(lane => new LaneView(lane, onAdd))
    this.element.className = 'lanes'
    this.element.setAttribute('aria-describedby', 'table-question')
    this.connectors = new ConnectorLayer(this.element, edits.groups, edits.local,
      (from, to) => edits.connect(from, to), id => edits.disconnect(id), say)
    this.element.append(...this.lanes.map(l => l.element), this.connectors.svg, this.connectors.labels)
  }

  /** Brings the DOM in line with the documents: add, update, move and drop notes and groups. */
  sync (): NoteElement[] {
    const groups = this.edits.groups.allGroups()
    const seenGroups = new Set<string>()
    for (const view of groups) {
      seenGroups.add(view.id)
      let g = this.groups.get(view.id)
      if (!g) {
        const title = this.edits.groups.title(view.id)
        if (!title) continue
        g = new GroupElement(view, title, this.edits.local, this.groupActions)
        this.groups.set(view.id, g)
      } else {
        g.update(view)
      }
      this.moveInto(g.element, this.laneView(view.lane).body)
    }
    for (const [id, g] of this.groups) {
      if (!seenGroups.has(id)) { g.destroy(); this.groups.delete(id) }
    }

    const seen = new Set<string>()
    const created: NoteElement[] = []
    const sources = [{ doc: this.edits.table, draft: false }, ...(this.edits.drafts ? [{ doc: this.edits.drafts.table, draft: true }] : [])]
    for (const { doc, draft } of sources) {
      for (const view of doc.allNotes()) {
        if (seen.has(view.id)) continue
        seen.add(view.id)
        let note = this.notes.get(view.id)
        if (note && note.draft !== draft) { note.destroy(); this.notes.delete(view.id); note = undefined }
        if (!note) {
          const text = doc.text(view.id)
          if (!text) continue
          note = new NoteElement(view, text, this.edits.local, this.noteActions, draft)
          this.notes.set(view.id, note)
          created.push(note)
        } else {
          note.update(view)
        }
        const group = !draft && view.group ? this.groups.get(view.group) : undefined
        note.element.classList.toggle('note--grouped', group !== undefined)
        this.moveInto(note.element, group ? group.body : this.laneView(view.lane).body)
      }
    }
    for (const [id, note] of this.notes) {
      if (!seen.has(id)) { note.destroy(); this.notes.delete(id) }
    }
    // Text edits resize their own textarea; new notes and width changes need it here.
    for (const note of created) note.autosize()
    return created
  }

  layout (): void {
    for (const lane of this.lanes) {
      lane.layout(this.itemsIn(lane.lane), this.notesIn(lane.lane).length)
    }
    this.connectors.render()
  }

  /** What sits loose in a lane: notes outside any group, and groups. */
  itemsIn (lane: Lane): Placeable[] {
    const loose = this.notesIn(lane).filter(n => !n.element.classList.contains('note--grouped'))
    const groups = [...this.groups.values()].filter(g => g.view.lane === lane)
    return [...loose, ...groups]
  }

  notesIn (lane: Lane): NoteElement[] {
    return [...this.notes.values()].filter(n => n.view.lane === lane)
  }

  laneView (lane: Lane): LaneView {
    return this.lanes[LANES.indexOf(lane)]
  }

  setEditable (editable: boolean): void {
    for (const lane of this.lanes) lane.setEditable(editable)
    for (const n of this.notes.values()) n.setEditable(editable)
    for (const g of this.groups.values()) g.setEditable(editable)
    this.connectors.setEditable(editable)
  }

  destroy (): void {
    for (const n of this.notes.values()) n.destroy()
    for (const g of this.groups.values()) g.destroy()
  }

  /** Moves an element to a new parent, keeping the caret if it was typing there. */
  private moveInto (el: HTMLElement, parent: HTMLElement): void {
    if (el.parentElement === parent) return
    const active = document.activeElement
    const hadFocus = el.contains(active)
    parent.append(el)
    if (hadFocus && active instanceof HTMLElement) active.focus()
  }
}
