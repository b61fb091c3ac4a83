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
import { TableDoc } from '../schema'
import { BoardHeader } from './header'
import { installBoardHook } from './boardHook'
import { Drafts } from './drafts'
import { Edits } from './edits'
import type { NoteElement } from './note'
import { NoteCommands } from './noteCommands'
import { PhaseBanner } from './phaseBanner'
import { Presence } from './presence'
import { Surface, type Changes } from './surface'
import { Toast, type ToastAction } from './toast'
import { Undo } from './undo'
import { Voting } from './voting'
import { PosterDoc, type BoardView } from '../poster'
import { PosterView } from './poster/posterView'
import { fetchEvent } from '../api'
import { MarketPanel } from './marketPanel'

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
  private readonly body = document.createElement('div')
  private readonly toast = new Toast()
  private readonly narrowQuery = window.matchMedia(NARROW)
  readonly commands: NoteCommands
  private readonly resize = new ResizeObserver(() => {
    for (const n of this.surface.notes.values()) n.autosize()
    this.surface.layout()
  })
  control: Control = DEFAULT_CONTROL
  /** The poster view, made the first time the table is shown as a poster. */
  poster: PosterView | null = null
  /** How the event file opens this table, until the facilitator switches it. */
  private defaultView: BoardView = 'lanes'
  private readonly cleanup: Array<() => void> = []
  private destroyed = false

  constructor (readonly event: string, readonly tableId: string, private me: Identity) {
    this.connection = new Connection(event, tableId)
    const table = new TableDoc(this.connection.doc)
    const groups = new GroupsDoc(this.connection.doc)
    this.edits = new Edits(table, groups, { local: true }, () => this.me)
    const posterDoc = new PosterDoc(this.connection.doc)
    this.undo = new Undo([table.notes, groups.groups, groups.connectors, posterDoc.arrows, posterDoc.markers], this.edits.local)
    this.presence = new Presence(this.connection.awareness, me)
    this.header = new BoardHeader(event, tableId, this.presence.element, () => this.editable && this.undo.undo(), () => this.editable && this.undo.redo())
    this.programme = new ProgrammeNow(event)
    this.header.element.querySelector('.board-header__top')?.insertBefore(this.programme.element, this.header.element.querySelector('.spacer'))
    this.commands = new NoteCommands(this)
    const commands = this.commands
    this.surface = new Surface(this.edits, l => commands.addNote(l), commands.noteActions, commands.groupActions, m => this.say(m))
    this.voting = new Voting(event, tableId, m => this.toast.show(m), () => this.showVotes())

    this.newGroup.type = 'button'
    this.newGroup.className = 'tool-button'
    this.newGroup.textContent = `+ ${tf('newGroup')}`
    this.newGroup.addEventListener('click', () => commands.addGroup())
    this.banner.tools.append(this.newGroup, this.surface.connectors.toolButton)

    this.element.className = 'board'
    // A footer (contentinfo landmark), so no content sits outside a landmark.
    const hint = document.createElement('footer')
    hint.className = 'board__hint'
    hint.textContent = t('shortcuts')
    this.marketPanel = new MarketPanel(event, () => table.readMeta().teams.map(x => x.number),
      () => table.allNotes().flatMap(n => n.provenance ? [n.provenance] : []), tip => commands.bringTip(tip))
    // The lanes (or the poster) and, beside them, the market panel.
    this.body.className = 'board__body'
    this.body.append(this.surface.element, this.marketPanel.element)
    this.element.append(this.header.element, this.banner.element, this.body, hint, this.toast.element)

    table.meta.observe(() => { this.header.setMeta(table.readMeta(), tableId); this.marketPanel.teamsChanged() })
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
    void fetchEvent(event).then(info => {
      const view = info.tables.find(x => x.id === tableId)?.view
      if (this.destroyed || (view !== 'poster' && view !== 'lanes')) return
      this.defaultView = view
      this.applyControl()
    }).catch(() => {})
  }

  /** Lanes or poster: the facilitator's choice, else the event file's. */
  get view (): BoardView {
    return this.control.view ?? this.defaultView
  }

  destroy (): void {
    this.destroyed = true
    for (const fn of this.cleanup) fn()
    this.resize.disconnect()
    this.surface.destroy()
    this.poster?.destroy()
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

  get narrow (): boolean {
    return this.narrowQuery.matches
  }

  /** A line on the toast, with an optional action. */
  say (message: string, action?: ToastAction): void {
    this.toast.show(message, action)
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

  private applyControl (): void {
    const before = this.control
    this.control = readControl(this.connection.doc)
    const c = this.control
    this.element.dataset.phase = c.phase
    this.element.classList.toggle('board--readonly', !this.editable)
    this.newGroup.hidden = c.phase !== 'clusteren'
    this.surface.connectors.toolButton.hidden = c.phase !== 'clusteren' && c.phase !== 'vervolgstappen'
    this.surface.setEditable(this.editable)
    this.showView()
    if (c.phase === 'stemmen' && before.phase !== 'stemmen') void this.voting.refresh()
    if (c.voteBudget !== before.voteBudget) void this.voting.refresh()
    this.showVotes()
  }

  /** Shows the lanes or the poster; the poster view is made when first needed. */
  private showView (): void {
    const poster = this.view === 'poster'
    this.element.dataset.view = this.view
    if (poster && !this.poster) {
      this.poster = new PosterView(this.event, this.edits.table, this.edits.local, {
        newNote: () => this.commands.addPosterNote(),
        author: () => this.me.name,
        toast: m => this.say(m),
      })
      this.surface.element.after(this.poster.element)
    }
    this.surface.element.hidden = poster
    if (this.poster) {
      const wasHidden = this.poster.element.hidden
      this.poster.element.hidden = !poster
      this.poster.setEditable(this.editable, !(this.control.privateWriting && this.control.phase === 'schrijven'))
      if (poster && wasHidden !== false) this.poster.shown()
      this.poster.underlay.show(this.control.posterImage)
    }
    this.newGroup.hidden ||= poster
    this.surface.connectors.toolButton.hidden ||= poster
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
    this.banner.update(this.control, this.voting.left, this.view)
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
      if (this.view === 'poster') this.poster?.addNote()
      else this.commands.addNote(this.commands.lastLane)
    }
  }
}

