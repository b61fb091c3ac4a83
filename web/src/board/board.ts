//! The table board: three lanes of live sticky notes on one table document,
//! run in phases by the facilitator (`control`): wired to the connection,
//! the private drafts, presence, undo, voting and the test hook.
import type * as Y from 'yjs'
import { Connection } from '../connection'
import { acceptsWrites, DEFAULT_CONTROL, observeControl, readControl, readVoteTotals, type Control } from '../control'
import { GroupsDoc } from '../groups'
import { ensureSigned, type Identity } from '../identity'
import { t } from '../i18n'
import { tf } from '../i18nFacilitation'
import { ProgrammeNow } from '../programmeNow'
import { TableDoc, type Color, type Lane, type NoteView } from '../schema'
import { BoardHeader } from './header'
import { installBoardHook } from './boardHook'
import { Drafts } from './drafts'
import { Edits } from './edits'
import type { GroupActions } from './groupElement'
import type { NoteActions, NoteElement } from './note'
import { PhaseBanner } from './phaseBanner'
import { Presence } from './presence'
import { Surface, type Changes } from './surface'
import { Toast } from './toast'
import { Undo } from './undo'
import { Voting } from './voting'
import { startDrag, type Drop } from './drag'
import { listSpot } from './listSpot'
import { MarketPanel, type PanelTip } from './marketPanel'

const NARROW = '(max-width: 760px)'

export class Board {
  readonly element = document.createElement('div')
  readonly connection: Connection
  readonly edits: Edits
  readonly undo: Undo
  readonly presence: Presence
  readonly surface: Surface
  readonly voting: Voting
  readonly marketPanel: MarketPanel
  private readonly header: BoardHeader
  private readonly banner = new PhaseBanner()
  private readonly programme: ProgrammeNow
  private readonly newGroup = document.createElement('button')
  private readonly toast = new Toast()
  private readonly narrow = window.matchMedia(NARROW)
  private readonly resize = new ResizeObserver(() => {
    for (const n of this.surface.notes.values()) n.autosize()
    this.surface.layout()
  })
  control: Control = DEFAULT_CONTROL
  private lastLane: Lane = 'goed'
  private readonly cleanup: Array<() => void> = []
  private destroyed = false

  constructor (readonly event: string, readonly tableId: string, private me: Identity) {
    this.connection = new Connection(event, tableId)
    const table = new TableDoc(this.connection.doc)
    const groups = new GroupsDoc(this.connection.doc)
    this.edits = new Edits(table, groups, { local: true }, () => this.me)
    this.undo = new Undo([table.notes, groups.groups, groups.connectors], this.edits.local)
    this.presence = new Presence(this.connection.awareness, me)
    this.header = new BoardHeader(event, tableId, this.presence.element, () => this.editable && this.undo.undo(), () => this.editable && this.undo.redo())
    this.programme = new ProgrammeNow(event)
    this.header.element.querySelector('.board-header__top')?.insertBefore(this.programme.element, this.header.element.querySelector('.spacer'))
    this.surface = new Surface(this.edits, l => this.addNote(l), this.noteActions, this.groupActions, m => this.toast.show(m))
    this.voting = new Voting(event, tableId, m => this.toast.show(m), () => this.showVotes())

    this.newGroup.type = 'button'
    this.newGroup.className = 'tool-button'
    this.newGroup.textContent = `+ ${tf('newGroup')}`
    this.newGroup.addEventListener('click', () => this.addGroup())
    this.banner.tools.append(this.newGroup, this.surface.connectors.toolButton)

    this.element.className = 'board'
    // A footer (contentinfo landmark), so no content sits outside a landmark.
    const hint = document.createElement('footer')
    hint.className = 'board__hint'
    hint.textContent = t('shortcuts')
    this.marketPanel = new MarketPanel(event, () => table.readMeta().teams.map(x => x.number),
      () => table.allNotes().flatMap(n => n.provenance ? [n.provenance] : []), tip => this.bringTip(tip))
    this.element.append(this.header.element, this.banner.element, this.surface.element, this.marketPanel.element, hint, this.toast.element)

    table.meta.observe(() => { this.header.setMeta(table.readMeta(), tableId); this.marketPanel.render() })
    table.notes.observeDeep(events => this.notesChanged(events))
    groups.groups.observeDeep(() => this.apply(this.surface.syncGroups()))
    groups.connectors.observe(() => this.surface.layout())
    this.cleanup.push(observeControl(this.connection.doc, () => this.applyControl()))
    this.undo.onChange(() => this.header.setHistory(this.undo.canUndo, this.undo.canRedo))
    this.presence.onChange(() => this.showEditors())
    this.cleanup.push(this.connection.onChange(s => this.header.setStatus(s.status, navigator.onLine)))
    this.header.setMeta(table.readMeta(), tableId)
    this.header.setHistory(false, false)
    this.resize.observe(this.surface.element)

    const onKey = (e: KeyboardEvent): void => this.onKey(e)
    const onNet = (): void => this.header.setStatus(this.connection.current.status, navigator.onLine)
    window.addEventListener('keydown', onKey)
    window.addEventListener('online', onNet)
    window.addEventListener('offline', onNet)
    this.cleanup.push(() => {
      window.removeEventListener('keydown', onKey)
      window.removeEventListener('online', onNet)
      window.removeEventListener('offline', onNet)
    })
    installBoardHook(this)
    this.applyControl()
    this.sync()
    void this.sign()
  }

  destroy (): void {
    this.destroyed = true
    for (const fn of this.cleanup) fn()
    this.resize.disconnect()
    this.surface.destroy()
    this.marketPanel.destroy()
    this.banner.destroy()
    this.programme.destroy()
    this.presence.destroy()
    this.undo.destroy()
    this.edits.drafts?.destroy()
    this.connection.destroy()
    this.element.remove()
  }

  get editable (): boolean {
    return acceptsWrites(this.control)
  }

  /** Creates a note at a free spot of a lane (in the drafts while writing privately). */
  addNote (lane: Lane, color: Color = defaultColor(lane)): string {
    if (!this.editable) return ''
    const privately = this.control.privateWriting && this.control.phase === 'schrijven'
    const drafts = this.edits.drafts
    if (privately && !drafts?.ready) { this.toast.show(tf('draftsWaiting')); return '' }
    const spot = this.surface.laneView(lane).freeSpot(this.surface.itemsIn(lane))
    this.undo.boundary()
    const id = this.edits.addNote(privately && drafts ? drafts.table : this.edits.table, lane, color, spot)
    this.undo.boundary()
    this.lastLane = lane
    this.surface.notes.get(id)?.focusText()
    return id
  }

  /** Puts a market tip on the table as a note in "doorpakken" that keeps its stand and tip. */
  bringTip (tip: PanelTip): string {
    if (!this.editable) { this.toast.show(tf('lockedNotice')); return '' }
    const lane: Lane = 'doorpakken'
    const spot = this.surface.laneView(lane).freeSpot(this.surface.itemsIn(lane))
    this.undo.boundary()
    const id = this.edits.bring(lane, spot, tip.text, tip.author, { stand: tip.room, tip: tip.id })
    this.undo.boundary()
    return id
  }

  private addGroup (): void {
    if (!this.editable) return
    const lane = this.lastLane
    const id = this.edits.newGroup(lane, this.surface.laneView(lane).freeSpot(this.surface.itemsIn(lane)))
    this.surface.groups.get(id)?.focusTitle()
  }

  /** Gets the server-signed identity (silently), then opens the drafts and loads my votes. */
  private async sign (): Promise<void> {
    const signed = await ensureSigned(this.event)
    if (!signed || this.destroyed) return
    this.me = signed
    this.presence.setUser(signed)
    const drafts = new Drafts(this.event, this.tableId, signed)
    this.edits.drafts = drafts
    drafts.table.notes.observeDeep(events => this.notesChanged(events))
    this.cleanup.push(drafts.connection.onChange(() => this.sync()))
    await this.voting.setToken(signed.token)
  }

  private readonly noteActions: NoteActions = {
    moveToLane: (id, lane) => {
      const spot = this.surface.laneView(lane).freeSpot(this.surface.itemsIn(lane).filter(n => n.element.dataset.noteId !== id))
      this.edits.ungroup(id)
      this.edits.move(id, lane, spot.x, spot.y)
      this.surface.notes.get(id)?.focusText()
      this.toast.show(t('movedTo', { lane: t(`lane_${lane}`) }))
    },
    nudge: (id, dx, dy) => {
      const v = this.edits.docOf(id).readNote(id)
      if (v) this.edits.move(id, v.lane, v.x + dx, v.y + dy)
    },
    setColor: (id, color) => this.edits.setColor(id, color),
    remove: id => this.removeNote(id),
    textEdited: id => this.edits.docOf(id).touch(id),
    focusChanged: (id, focused) => {
      if (focused) this.lastLane = this.edits.docOf(id).readNote(id)?.lane ?? this.lastLane
      // Each visit to a note is its own undo step, however quickly it follows the last.
      this.undo.boundary()
      this.presence.setEditing(focused ? id : null)
    },
    startDrag: (id, e) => {
      const note = this.surface.notes.get(id)
      if (note && this.editable) startDrag(e, note.element, this.surface.lanes, () => this.narrow.matches, drop => this.dropNote(id, drop))
    },
    setNextStep: (id, field, value) => this.edits.setNextStep(id, field, value),
    ungroup: id => this.edits.ungroup(id),
  }

  private readonly groupActions: GroupActions = {
    startDrag: (id, e) => {
      const g = this.surface.groups.get(id)
      if (g && this.editable) startDrag(e, g.element, this.surface.lanes, () => this.narrow.matches, drop => this.edits.moveGroup(id, drop.lane, drop.x, drop.y))
    },
    dissolve: id => this.edits.dissolve(id),
    titleEdited: () => {},
  }

  /** A drop in clusteren onto a note or group groups them; elsewhere it moves (and leaves a group). */
  private dropNote (id: string, drop: Drop): void {
    const draft = this.edits.isDraft(id)
    const current = this.edits.docOf(id).readNote(id)?.group ?? null
    if (!draft && (drop.onto.note || drop.onto.group)) {
      const ontoGroup = drop.onto.group ?? this.edits.table.readNote(drop.onto.note ?? '')?.group
      if (ontoGroup && ontoGroup === current) return
      if (this.control.phase === 'clusteren' && !(drop.onto.note && this.edits.isDraft(drop.onto.note))) {
        const made = this.edits.group(id, drop.onto)
        if (made?.created) this.surface.groups.get(made.group)?.focusTitle()
        if (made) { this.toast.show(tf('groupedInto')); return }
      }
    }
    const spot = this.narrow.matches ? listSpot(this.surface.notesIn(drop.lane).filter(n => n.view.id !== id), drop.pointerY) : drop
    if (current) this.edits.ungroup(id)
    this.edits.move(id, drop.lane, spot.x, spot.y)
  }

  private removeNote (id: string): void {
    const doc = this.edits.docOf(id)
    const snapshot = doc.readNote(id)
    if (!snapshot) return
    this.undo.boundary()
    this.edits.remove(id)
    this.undo.boundary()
    if (doc !== this.edits.table) return
    const step = this.undo.top()
    this.toast.show(t('deleted'), {
      label: t('undoDelete'),
      run: () => {
        if (this.undo.top() === step) this.undo.undo()
        else if (!this.edits.table.note(id)) this.restore(snapshot)
      },
    })
  }

  /** Brings a deleted note back when its deletion is no longer the last undo step. */
  private restore (n: NoteView): void {
    this.surface.notes.get(this.edits.restore(n))?.focusText()
  }

  private applyControl (): void {
    const before = this.control
    this.control = readControl(this.connection.doc)
    const c = this.control
    this.element.dataset.phase = c.phase
    this.element.classList.toggle('board--readonly', !this.editable)
    this.newGroup.hidden = c.phase !== 'clusteren'
    this.surface.connectors.toolButton.hidden = c.phase !== 'clusteren' && c.phase !== 'vervolgstappen'
    this.surface.setEditable(this.editable)
    if (c.phase === 'stemmen' && before.phase !== 'stemmen') void this.voting.refresh()
    if (c.voteBudget !== before.voteBudget) void this.voting.refresh()
    this.showVotes()
  }

  /** Brings the whole DOM in line with the documents (start, drafts opened or reconnected). */
  private sync (): void {
    this.apply(this.surface.sync())
    this.surface.setEditable(this.editable)
  }

  /**
   * A change to a notes document (the table's or the drafts'): only the
   * notes it touched are read and redrawn. A remote keystroke is one event
   * on a note's Y.Text (which its binding has already shown) and one on its
   * map (`updatedAt`): one note is read, and its lane is placed again only
   * if the note changed height.
   */
  private notesChanged (events: Array<Y.YEvent<any>>): void {
    const ids = new Set<string>()
    for (const e of events) {
      if (e.path.length === 0) {
        // The notes map itself: notes added, deleted or replaced.
        for (const id of (e as Y.YMapEvent<unknown>).keysChanged) ids.add(id)
      } else if (typeof e.path[0] === 'string') {
        ids.add(e.path[0])
      }
    }
    this.apply(this.surface.syncNotes(ids))
    if (events.some(e => e.path.length === 0)) this.marketPanel.render()
  }

  /** Finishes what a sync started: new notes get their editors and votes; changed lanes are placed. */
  private apply (changes: Changes): void {
    if (changes.created.length > 0) {
      const editors = this.presence.editors()
      for (const note of changes.created) note.setEditors(editors.get(note.view.id) ?? [])
      this.showVotes(changes.created)
    }
    // A note or group that went away may have been an arrow's end.
    if (changes.lanes.size > 0 || changes.removed) this.surface.layoutLanes(changes.lanes)
  }

  /** Fills the vote rows of `notes` (all by default) and the phase banner. */
  private showVotes (notes: Iterable<NoteElement> = this.surface.notes.values()): void {
    const voting = this.control.phase === 'stemmen' && this.editable
    const totals = readVoteTotals(this.connection.doc)
    const published = this.control.voteVisibility === 'always' || this.control.phase !== 'stemmen'
    for (const note of notes) {
      if (note.draft) { note.votes.hidden = true; continue }
      const id = note.view.id
      const total = totals.get(id) ?? (published && this.control.phase === 'stemmen' ? 0 : undefined)
      this.voting.render(note.votes, id, voting, total)
    }
    this.banner.update(this.control, this.voting.left)
  }

  private showEditors (): void {
    const editors = this.presence.editors()
    for (const [id, note] of this.surface.notes) note.setEditors(editors.get(id) ?? [])
  }

  private onKey (e: KeyboardEvent): void {
    if (e.key === 'Escape' && this.surface.connectors.active) { this.surface.connectors.cancel(); return }
    // Undo while locked would send an edit the server refuses (and closes the connection for).
    if (this.editable && this.undo.handleKey(e)) { e.preventDefault(); return }
    const target = e.target as HTMLElement | null
    const typing = target?.closest('input, textarea, select, [contenteditable="true"]')
    if (!typing && !e.ctrlKey && !e.metaKey && !e.altKey && e.key.toLowerCase() === 'n') {
      e.preventDefault()
      this.addNote(this.lastLane)
    }
  }
}

function defaultColor (lane: Lane): Color {
  return lane === 'goed' ? 'groen' : lane === 'doorpakken' ? 'geel' : 'blauw'
}
