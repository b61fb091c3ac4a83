//! Every change a participant makes to the documents, in one place: notes
//! (on the table or in the private drafts), groups, arrows and next-step
//! fields. Each is one transaction with the board's local origin, so undo
//! covers exactly this participant's own edits.
import type * as Y from 'yjs'
import { GroupsDoc } from '../groups'
import type { Identity } from '../identity'
import type { Color, Lane, NextStepField, NoteView, Provenance, TableDoc } from '../schema'
import type { Drafts } from './drafts'

export class Edits {
  drafts: Drafts | null = null

  constructor (
    readonly table: TableDoc,
    readonly groups: GroupsDoc,
    /** Origin of every local transaction: what the UndoManager may undo. */
    readonly local: object,
    private readonly me: () => Identity,
  ) {}

  /** The notes document a note lives in: the participant's drafts or the table. */
  docOf (id: string): TableDoc {
    return this.drafts?.table.note(id) ? this.drafts.table : this.table
  }

  isDraft (id: string): boolean {
    return this.docOf(id) !== this.table
  }

  addNote (where: TableDoc, lane: Lane, color: Color, spot: { x: number; y: number }): string {
    let id = ''
    this.run(where.doc, () => {
      id = where.createNote({ lane, color, ...spot, author: this.me().name, authorId: this.me().id })
    })
    return id
  }

  /** A note on the table (never in drafts) carrying `provenance`, e.g. a market tip. */
  bring (lane: Lane, spot: { x: number; y: number }, text: string, author: string, provenance: Provenance): string {
    let id = ''
    this.run(this.table.doc, () => {
      id = this.table.createNote({ lane, color: 'blauw', ...spot, text, author, authorId: this.me().id, provenance })
    })
    return id
  }

  restore (n: NoteView): string {
    let id = ''
    this.run(this.table.doc, () => { id = this.table.createNote({ ...n }) })
    return id
  }

  move (id: string, lane: Lane, x: number, y: number): void {
    const doc = this.docOf(id)
    this.run(doc.doc, () => doc.move(id, lane, x, y))
  }

  setColor (id: string, color: Color): void {
    const doc = this.docOf(id)
    this.run(doc.doc, () => doc.setColor(id, color))
  }

  setNextStep (id: string, field: NextStepField, value: string): void {
    const doc = this.docOf(id)
    this.run(doc.doc, () => doc.setNextStep(id, field, value))
  }

  remove (id: string): void {
    const doc = this.docOf(id)
    this.run(doc.doc, () => doc.remove(id))
  }

  /**
   * Clusters note `id` with `onto` (a group, or a note: its group, or a new
   * group in that note's place). Returns the group id, and whether it is new.
   */
  group (id: string, onto: { note?: string; group?: string }): { group: string; created: boolean } | null {
    const target = onto.note ? this.table.readNote(onto.note) : undefined
    let group = onto.group ?? target?.group ?? null
    if (group && !this.groups.groups.has(group)) group = null
    if (!group && !target) return null
    let created = false
    this.run(this.table.doc, () => {
      if (!group && target) {
        group = this.groups.createGroup(target.lane, target.x, target.y)
        this.table.setGroup(target.id, group)
        created = true
      }
      const lane = this.groups.allGroups().find(g => g.id === group)?.lane
      const note = this.table.readNote(id)
      if (note && lane && note.lane !== lane) this.table.move(id, lane, note.x, note.y)
      this.table.setGroup(id, group)
    })
    return group ? { group, created } : null
  }

  ungroup (id: string): void {
    this.run(this.table.doc, () => this.table.setGroup(id, null))
  }

  newGroup (lane: Lane, spot: { x: number; y: number }): string {
    let id = ''
    this.run(this.table.doc, () => { id = this.groups.createGroup(lane, spot.x, spot.y) })
    return id
  }

  /** Moves a group; its notes go to the group's lane with it. */
  moveGroup (id: string, lane: Lane, x: number, y: number): void {
    this.run(this.table.doc, () => {
      this.groups.moveGroup(id, lane, x, y)
      for (const n of this.table.allNotes()) {
        if (n.group === id && n.lane !== lane) this.table.move(n.id, lane, n.x, n.y)
      }
    })
  }

  /** Deletes a group and clears `group` on its notes, as docs/schema.md asks. */
  dissolve (id: string): void {
    this.run(this.table.doc, () => {
      for (const n of this.table.allNotes()) if (n.group === id) this.table.setGroup(n.id, null)
      this.groups.removeGroup(id)
    })
  }

  connect (from: string, to: string): void {
    this.run(this.table.doc, () => this.groups.createConnector(from, to, this.me().name))
  }

  disconnect (id: string): void {
    this.run(this.table.doc, () => this.groups.removeConnector(id))
  }

  private run (doc: Y.Doc, fn: () => void): void {
    doc.transact(fn, this.local)
  }
}
