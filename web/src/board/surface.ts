//! The lanes with everything on them: the table's notes, the participant's
//! own drafts, groups holding their notes, and the arrows drawn over it all.
//! `sync` brings the DOM in line with the documents; `syncNotes` and
//! `syncGroups` do it for what changed only; `layoutLanes` places it.
import { LANES, type Lane, type TableDoc } from '../schema'
import type { Edits } from './edits'
import { ConnectorLayer } from './connectorLayer'
import { GroupElement, type GroupActions } from './groupElement'
import { LaneView, type Placeable } from './lane'
import { NoteElement, type NoteActions } from './note'

/** What a sync did: notes it made, lanes to place again, and whether anything went away. */
export interface Changes {
  created: NoteElement[]
  lanes: Set<Lane>
  removed: boolean
}

export class Surface {
  readonly element = document.createElement('main')
  readonly lanes: LaneView[]
  readonly notes = new Map<string, NoteElement>()
  readonly groups = new Map<string, GroupElement>()
  readonly connectors: ConnectorLayer
  /** Whether the table accepts writes: what a new note or group starts as. */
  private editable = true

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

  /**
   * Brings the whole DOM in line with the documents: every group and note.
   * Used when the board starts and when the drafts document comes or goes;
   * changes in between go through `syncGroups` and `syncNotes`, which touch
   * only what changed.
   */
  sync (): Changes {
    const changes = this.syncGroups()
    const ids = new Set(this.notes.keys())
    for (const doc of this.sources()) for (const id of doc.noteIds()) ids.add(id)
    const notes = this.syncNotes(ids)
    for (const lane of LANES) changes.lanes.add(lane)
    return { created: notes.created, lanes: changes.lanes, removed: changes.removed || notes.removed }
  }

  /**
   * Brings the groups in line with `groups` (few; all are compared) and
   * re-places the notes of a group that came or went. Lanes whose groups
   * came, went, moved or changed height are in `lanes`.
   */
  syncGroups (): Changes {
    const lanes = new Set<Lane>()
    const cameOrWent = new Set<string>()
    const seen = new Set<string>()
    let removed = false
    for (const view of this.edits.groups.allGroups()) {
      seen.add(view.id)
      let g = this.groups.get(view.id)
      if (!g) {
        const title = this.edits.groups.title(view.id)
        if (!title) continue
        g = new GroupElement(view, title, this.edits.local, this.groupActions)
        g.setEditable(this.editable)
        this.groups.set(view.id, g)
        cameOrWent.add(view.id)
        lanes.add(view.lane)
      } else {
        const before = g.view
        if (before.lane !== view.lane || before.x !== view.x || before.y !== view.y) lanes.add(before.lane).add(view.lane)
        g.update(view)
      }
      this.moveInto(g.element, this.laneView(view.lane).body)
    }
    for (const [id, g] of this.groups) {
      if (!seen.has(id)) {
        lanes.add(g.view.lane)
        cameOrWent.add(id)
        g.destroy()
        this.groups.delete(id)
        removed = true
      }
    }
    // A group's title can wrap onto another line.
    for (const g of this.groups.values()) if (this.laneView(g.view.lane).grew(g)) lanes.add(g.view.lane)
    const created: NoteElement[] = []
    if (cameOrWent.size > 0) {
      const members = [...this.notes.values()].filter(n => n.view.group && cameOrWent.has(n.view.group)).map(n => n.view.id)
      const notes = this.syncNotes(members)
      created.push(...notes.created)
      for (const lane of notes.lanes) lanes.add(lane)
    }
    return { created, lanes, removed }
  }

  /**
   * Brings the notes `ids` in line with the documents (a note in the table
   * wins over a draft with the same id): adds, updates, moves or drops each.
   * Lanes whose membership or order changed, or where a note (or the group
   * holding it) changed height, are in `lanes`; nothing else is read or written.
   */
  syncNotes (ids: Iterable<string>): Changes {
    const lanes = new Set<Lane>()
    const created: NoteElement[] = []
    const kept: NoteElement[] = []
    let removed = false
    const drafts = this.edits.drafts?.table
    for (const id of ids) {
      let note = this.notes.get(id)
      let doc = this.edits.table
      let view = doc.readNote(id)
      if (!view && drafts) { doc = drafts; view = doc.readNote(id) }
      const draft = doc !== this.edits.table
      const text = view ? doc.text(id) : undefined
      // Gone, moved between table and drafts, or replaced by a new note map under the same id.
      if (note && (!view || note.draft !== draft || (text && note.text !== text))) {
        lanes.add(note.view.lane)
        note.destroy()
        this.notes.delete(id)
        note = undefined
        removed = true
      }
      if (!view) continue
      if (!note) {
        if (!text) continue
        note = new NoteElement(view, text, this.edits.local, this.noteActions, draft)
        note.setEditable(this.editable)
        this.notes.set(id, note)
        created.push(note)
        lanes.add(view.lane)
      } else {
        const before = note.view
        if (before.lane !== view.lane || before.x !== view.x || before.y !== view.y || before.group !== view.group) {
          lanes.add(before.lane).add(view.lane)
        }
        note.update(view)
        kept.push(note)
      }
      const group = !draft && view.group ? this.groups.get(view.group) : undefined
      note.element.classList.toggle('note--grouped', group !== undefined)
      this.moveInto(note.element, group ? group.body : this.laneView(view.lane).body)
    }
    // Text edits resize their own textarea; new notes and width changes need it here.
    for (const note of created) note.autosize()
    // A note (or the group it sits in) that grew or shrank pushes what is below it.
    for (const note of kept) {
      const lane = note.view.lane
      if (lanes.has(lane)) continue
      const group = !note.draft && note.view.group ? this.groups.get(note.view.group) : undefined
      if (this.laneView(lane).grew(group ?? note)) lanes.add(lane)
    }
    return { created, lanes, removed }
  }

  /** Places everything in every lane. */
  layout (): void {
    this.layoutLanes(LANES)
  }

  /** Places the items of `lanes` only, then redraws the arrows (their ends may have moved). */
  layoutLanes (lanes: Iterable<Lane>): void {
    for (const lane of lanes) {
      this.laneView(lane).layout(this.itemsIn(lane), this.notesIn(lane).length)
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
    this.editable = editable
    for (const lane of this.lanes) lane.setEditable(editable)
    for (const n of this.notes.values()) n.setEditable(editable)
    for (const g of this.groups.values()) g.setEditable(editable)
    this.connectors.setEditable(editable)
  }

  /** The documents notes come from: the table, then the participant's drafts. */
  private sources (): TableDoc[] {
    return [this.edits.table, ...(this.edits.drafts ? [this.edits.drafts.table] : [])]
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
