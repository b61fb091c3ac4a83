//! What a participant does to the notes and groups of a table board: add a
//! note or group, bring a market tip in, move, drop onto (grouping during
//! clusteren), recolour, delete with an undo toast. The board owns the
//! connection and the DOM; this is the part that turns gestures into edits.
import type { Control } from '../control'
import { t } from '../i18n'
import { tf } from '../i18nFacilitation'
import type { Color, Lane, NoteView } from '../schema'
import { startDrag, type Drop } from './drag'
import type { Edits } from './edits'
import type { GroupActions } from './groupElement'
import { listSpot } from './listSpot'
import type { PanelTip } from './marketPanel'
import type { NoteActions } from './note'
import type { Presence } from './presence'
import type { Surface } from './surface'
import type { ToastAction } from './toast'
import type { Undo } from './undo'

/** The board as the commands see it (the surface is read when a command runs). */
export interface CommandHost {
  readonly edits: Edits
  readonly undo: Undo
  readonly surface: Surface
  readonly presence: Presence
  readonly control: Control
  readonly editable: boolean
  /** Phones: lanes are lists, and a drop lands between notes. */
  readonly narrow: boolean
  say: (message: string, action?: ToastAction) => void
}

export class NoteCommands {
  /** The lane last written or focused in: where N and "+ groep" add. */
  lastLane: Lane = 'goed'

  constructor (private readonly host: CommandHost) {}

  /** Creates a note at a free spot of a lane (in the drafts while writing privately). */
  addNote (lane: Lane, color: Color = defaultColor(lane)): string {
    const { host } = this
    if (!host.editable) return ''
    const privately = host.control.privateWriting && host.control.phase === 'schrijven'
    const drafts = host.edits.drafts
    if (privately && !drafts?.ready) { host.say(tf('draftsWaiting')); return '' }
    host.undo.boundary()
    const id = host.edits.addNote(privately && drafts ? drafts.table : host.edits.table, lane, color, this.freeSpot(lane))
    host.undo.boundary()
    this.lastLane = lane
    host.surface.notes.get(id)?.focusText()
    return id
  }

  /** A note for the poster view: in the last lane, so the lanes show it too. */
  addPosterNote (): string {
    const lane = this.lastLane
    return this.host.edits.addNote(this.host.edits.table, lane, defaultColor(lane), this.freeSpot(lane))
  }

  /** Puts a market tip on the table as a note in "doorpakken" that keeps its stand and tip. */
  bringTip (tip: PanelTip): string {
    const { host } = this
    if (!host.editable) { host.say(tf('lockedNotice')); return '' }
    host.undo.boundary()
    const id = host.edits.bring('doorpakken', this.freeSpot('doorpakken'), tip.text, tip.author, { stand: tip.room, tip: tip.id })
    host.undo.boundary()
    return id
  }

  addGroup (): void {
    if (!this.host.editable) return
    const id = this.host.edits.newGroup(this.lastLane, this.freeSpot(this.lastLane))
    this.host.surface.groups.get(id)?.focusTitle()
  }

  readonly noteActions: NoteActions = {
    moveToLane: (id, lane) => {
      const { edits, surface } = this.host
      const spot = surface.laneView(lane).freeSpot(surface.itemsIn(lane).filter(n => n.element.dataset.noteId !== id))
      edits.ungroup(id)
      edits.move(id, lane, spot.x, spot.y)
      surface.notes.get(id)?.focusText()
      this.host.say(t('movedTo', { lane: t(`lane_${lane}`) }))
    },
    nudge: (id, dx, dy) => {
      const v = this.host.edits.docOf(id).readNote(id)
      if (v) this.host.edits.move(id, v.lane, v.x + dx, v.y + dy)
    },
    setColor: (id, color) => this.host.edits.setColor(id, color),
    remove: id => this.removeNote(id),
    textEdited: id => this.host.edits.docOf(id).touch(id),
    focusChanged: (id, focused) => {
      if (focused) this.lastLane = this.host.edits.docOf(id).readNote(id)?.lane ?? this.lastLane
      // Each visit to a note is its own undo step, however quickly it follows the last.
      this.host.undo.boundary()
      this.host.presence.setEditing(focused ? id : null)
    },
    startDrag: (id, e) => {
      const note = this.host.surface.notes.get(id)
      if (note && this.host.editable) startDrag(e, note.element, this.host.surface.lanes, () => this.host.narrow, drop => this.dropNote(id, drop))
    },
    setNextStep: (id, field, value) => this.host.edits.setNextStep(id, field, value),
    ungroup: id => this.host.edits.ungroup(id),
  }

  readonly groupActions: GroupActions = {
    startDrag: (id, e) => {
      const g = this.host.surface.groups.get(id)
      if (g && this.host.editable) startDrag(e, g.element, this.host.surface.lanes, () => this.host.narrow, drop => this.host.edits.moveGroup(id, drop.lane, drop.x, drop.y))
    },
    dissolve: id => this.host.edits.dissolve(id),
    titleEdited: () => {},
  }

  private freeSpot (lane: Lane): { x: number, y: number } {
    const { surface } = this.host
    return surface.laneView(lane).freeSpot(surface.itemsIn(lane))
  }

  /** A drop in clusteren onto a note or group groups them; elsewhere it moves (and leaves a group). */
  private dropNote (id: string, drop: Drop): void {
    const { edits, surface } = this.host
    const draft = edits.isDraft(id)
    const current = edits.docOf(id).readNote(id)?.group ?? null
    if (!draft && (drop.onto.note || drop.onto.group)) {
      const ontoGroup = drop.onto.group ?? edits.table.readNote(drop.onto.note ?? '')?.group
      if (ontoGroup && ontoGroup === current) return
      if (this.host.control.phase === 'clusteren' && !(drop.onto.note && edits.isDraft(drop.onto.note))) {
        const made = edits.group(id, drop.onto)
        if (made?.created) surface.groups.get(made.group)?.focusTitle()
        if (made) { this.host.say(tf('groupedInto')); return }
      }
    }
    const spot = this.host.narrow ? listSpot(surface.notesIn(drop.lane).filter(n => n.view.id !== id), drop.pointerY) : drop
    if (current) edits.ungroup(id)
    edits.move(id, drop.lane, spot.x, spot.y)
  }

  private removeNote (id: string): void {
    const { edits, undo } = this.host
    const doc = edits.docOf(id)
    const snapshot = doc.readNote(id)
    if (!snapshot) return
    undo.boundary()
    edits.remove(id)
    undo.boundary()
    if (doc !== edits.table) return
    const step = undo.top()
    this.host.say(t('deleted'), {
      label: t('undoDelete'),
      run: () => {
        if (undo.top() === step) undo.undo()
        else if (!edits.table.note(id)) this.restore(snapshot)
      },
    })
  }

  /** Brings a deleted note back when its deletion is no longer the last undo step. */
  private restore (n: NoteView): void {
    this.host.surface.notes.get(this.host.edits.restore(n))?.focusText()
  }
}

export function defaultColor (lane: Lane): Color {
  return lane === 'goed' ? 'groen' : lane === 'doorpakken' ? 'geel' : 'blauw'
}
