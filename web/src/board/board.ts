//! The table board: three lanes of live sticky notes on one table document,
//! wired to the connection, presence, undo and the test hook.
import { Connection } from '../connection'
import { LANES, TableDoc, type Color, type Lane, type NoteView } from '../schema'
import type { Identity } from '../identity'
import { t } from '../i18n'
import { setHook } from '../testHook'
import { BoardHeader } from './header'
import { LaneView } from './lane'
import { NoteElement, type NoteActions } from './note'
import { Presence } from './presence'
import { Toast } from './toast'
import { Undo } from './undo'
import { startDrag } from './drag'

const NARROW = '(max-width: 760px)'

export class Board {
  readonly element = document.createElement('div')
  private readonly connection: Connection
  private readonly table: TableDoc
  /** Origin of every local transaction: what the UndoManager may undo. */
  private readonly local = { local: true }
  private readonly undo: Undo
  private readonly presence: Presence
  private readonly header: BoardHeader
  private readonly lanes: LaneView[]
  private readonly notes = new Map<string, NoteElement>()
  private readonly toast = new Toast()
  private readonly narrow = window.matchMedia(NARROW)
  private readonly resize = new ResizeObserver(() => {
    for (const n of this.notes.values()) n.autosize()
    this.layout()
  })
  private lastLane: Lane = 'goed'
  private readonly cleanup: Array<() => void> = []

  constructor (readonly event: string, readonly tableId: string, private readonly me: Identity) {
    this.connection = new Connection(event, tableId)
    this.table = new TableDoc(this.connection.doc)
    this.undo = new Undo(this.table.notes, this.local)
    this.presence = new Presence(this.connection.awareness, me)
    this.header = new BoardHeader(event, tableId, this.presence.element, () => this.undo.undo(), () => this.undo.redo())
    this.lanes = LANES.map(lane => new LaneView(lane, l => this.addNote(l)))

    this.element.className = 'board'
    const lanes = document.createElement('main')
    lanes.className = 'lanes'
    lanes.setAttribute('aria-describedby', 'table-question')
    lanes.append(...this.lanes.map(l => l.element))
    const hint = document.createElement('p')
    hint.className = 'board__hint'
    hint.textContent = t('shortcuts')
    this.element.append(this.header.element, lanes, hint, this.toast.element)

    this.table.meta.observe(() => this.header.setMeta(this.table.readMeta(), tableId))
    this.table.notes.observeDeep(() => this.sync())
    this.undo.onChange(() => this.header.setHistory(this.undo.canUndo, this.undo.canRedo))
    this.presence.onChange(() => this.showEditors())
    this.cleanup.push(this.connection.onChange(s => this.header.setStatus(s.status, navigator.onLine)))
    this.header.setMeta(this.table.readMeta(), tableId)
    this.header.setHistory(false, false)
    this.resize.observe(lanes)

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
    this.installHook()
    this.sync()
  }

  destroy (): void {
    for (const fn of this.cleanup) fn()
    this.resize.disconnect()
    for (const n of this.notes.values()) n.destroy()
    this.presence.destroy()
    this.undo.destroy()
    this.connection.destroy()
    this.element.remove()
  }

  /** Creates a note at a free spot of a lane and puts the caret in it. */
  addNote (lane: Lane, color: Color = defaultColor(lane)): string {
    const laneView = this.laneView(lane)
    const spot = laneView.freeSpot(this.notesIn(lane))
    this.undo.boundary()
    let id = ''
    this.transact(() => {
      id = this.table.createNote({ lane, color, ...spot, author: this.me.name, authorId: this.me.id })
    })
    this.undo.boundary()
    this.lastLane = lane
    this.notes.get(id)?.focusText()
    return id
  }

  private readonly actions: NoteActions = {
    moveToLane: (id, lane) => {
      const spot = this.laneView(lane).freeSpot(this.notesIn(lane).filter(n => n.view.id !== id))
      this.transact(() => this.table.move(id, lane, spot.x, spot.y))
      this.notes.get(id)?.focusText()
      this.toast.show(t('movedTo', { lane: t(`lane_${lane}`) }))
    },
    nudge: (id, dx, dy) => {
      const v = this.table.readNote(id)
      if (v) this.transact(() => this.table.move(id, v.lane, v.x + dx, v.y + dy))
    },
    setColor: (id, color) => this.transact(() => this.table.setColor(id, color)),
    remove: id => this.removeNote(id),
    textEdited: id => this.table.touch(id),
    focusChanged: (id, focused) => {
      if (focused) this.lastLane = this.table.readNote(id)?.lane ?? this.lastLane
      // Each visit to a note is its own undo step, however quickly it follows the last.
      this.undo.boundary()
      this.presence.setEditing(focused ? id : null)
    },
    startDrag: (id, e) => {
      const note = this.notes.get(id)
      if (!note) return
      startDrag(e, note.element, this.lanes, () => this.narrow.matches, drop => {
        const spot = this.narrow.matches ? this.listSpot(id, drop.lane, drop.pointerY) : drop
        this.transact(() => this.table.move(id, drop.lane, spot.x, spot.y))
      })
    },
  }

  /**
   * On narrow screens notes flow as a list in (y, x) order, so a drop picks a
   * position between the notes above and below the pointer rather than pixels.
   */
  private listSpot (id: string, lane: Lane, pointerY: number): { x: number; y: number } {
    const others = this.notesIn(lane).filter(n => n.view.id !== id)
      .sort((a, b) => a.view.y - b.view.y || a.view.x - b.view.x)
    const above = others.filter(n => {
      const r = n.element.getBoundingClientRect()
      return r.top + r.height / 2 < pointerY
    })
    const before = above[above.length - 1]?.view
    const after = others[above.length]?.view
    if (before && after) return after.y - before.y >= 2 ? { x: before.x, y: (before.y + after.y) / 2 } : { x: before.x + 1, y: before.y }
    if (before) return { x: 12, y: before.y + 150 }
    if (after) return { x: 0, y: Math.max(0, after.y - 150) }
    return { x: 12, y: 12 }
  }

  private removeNote (id: string): void {
    const snapshot = this.table.readNote(id)
    if (!snapshot) return
    this.undo.boundary()
    this.transact(() => this.table.remove(id))
    this.undo.boundary()
    const step = this.undo.top()
    this.toast.show(t('deleted'), {
      label: t('undoDelete'),
      run: () => {
        if (this.undo.top() === step) this.undo.undo()
        else if (!this.table.note(id)) this.restore(snapshot)
      },
    })
  }

  /** Brings a deleted note back when its deletion is no longer the last undo step. */
  private restore (n: NoteView): void {
    this.transact(() => {
      const id = this.table.createNote({ ...n })
      this.notes.get(id)?.focusText()
    })
  }

  private transact (fn: () => void): void {
    this.connection.doc.transact(fn, this.local)
  }

  /** Brings the DOM in line with the document: add, update, move and drop notes. */
  private sync (): void {
    const seen = new Set<string>()
    const created: NoteElement[] = []
    for (const view of this.table.allNotes()) {
      seen.add(view.id)
      let note = this.notes.get(view.id)
      if (!note) {
        const text = this.table.text(view.id)
        if (!text) continue
        note = new NoteElement(view, text, this.local, this.actions)
        this.notes.set(view.id, note)
        created.push(note)
      } else {
        note.update(view)
      }
      const body = this.laneView(view.lane).body
      if (note.element.parentElement !== body) {
        const hadFocus = note.element.contains(document.activeElement)
        body.append(note.element)
        if (hadFocus) note.focusText()
      }
    }
    for (const [id, note] of this.notes) {
      if (!seen.has(id)) { note.destroy(); this.notes.delete(id) }
    }
    // Text edits resize their own textarea; new notes and width changes need it here.
    for (const note of created) note.autosize()
    this.showEditors()
    this.layout()
  }

  private layout (): void {
    for (const lane of this.lanes) lane.layout(this.notesIn(lane.lane))
  }

  private showEditors (): void {
    const editors = this.presence.editors()
    for (const [id, note] of this.notes) note.setEditors(editors.get(id) ?? [])
  }

  private notesIn (lane: Lane): NoteElement[] {
    return [...this.notes.values()].filter(n => n.view.lane === lane)
  }

  private laneView (lane: Lane): LaneView {
    return this.lanes[LANES.indexOf(lane)]
  }

  private onKey (e: KeyboardEvent): void {
    if (this.undo.handleKey(e)) { e.preventDefault(); return }
    const target = e.target as HTMLElement | null
    const typing = target?.closest('input, textarea, select, [contenteditable="true"]')
    if (!typing && !e.ctrlKey && !e.metaKey && !e.altKey && e.key.toLowerCase() === 'n') {
      e.preventDefault()
      this.addNote(this.lastLane)
    }
  }

  private installHook (): void {
    const c = this.connection
    const people = (): string[] => this.presence.people().map(p => p.name)
    setHook({
      page: 'board',
      event: this.event,
      table: this.tableId,
      get status () { return c.current.status },
      get synced () { return c.current.synced },
      get localLoaded () { return c.current.localLoaded },
      ready: true,
      notes: () => this.table.allNotes().map(({ id, text, lane, color, x, y, author }) => ({ id, text, lane, color, x, y, author })),
      people,
      whenStored: () => c.whenStored(),
      disconnect: () => c.disconnect(),
      connect: () => c.connect(),
    })
  }
}

function defaultColor (lane: Lane): Color {
  return lane === 'goed' ? 'groen' : lane === 'doorpakken' ? 'geel' : 'blauw'
}
