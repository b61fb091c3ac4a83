//! The poster view of a table: its notes placed freely on the droomproces
//! poster (an image underlay), arrows drawn between notes or from a note to a
//! point on the poster, and "tussenstap"/"actor" markers. Same table document
//! and same notes as the lanes: a note without a poster position waits in the
//! tray. Everything is HTML over the image (arrows an SVG overlay), keyboard
//! reachable; zoom and pan are PosterCamera's.
import * as Y from 'yjs'
import { tp } from '../../i18nPoster'
import { PosterDoc, POSTER_NOTE_HEIGHT, POSTER_NOTE_WIDTH, type ArrowEnd, type MarkerKind } from '../../poster'
import { POSTER_HEIGHT, POSTER_WIDTH, type NoteView, type TableDoc } from '../../schema'
import { PosterCamera } from './posterCamera'
import { PosterArrows } from './posterArrows'
import { PosterMarkerElement, PosterNote, type ItemActions } from './posterItems'
import { PosterTray } from './posterTray'
import { PosterUnderlay } from './posterUnderlay'

export interface PosterHost {
  /** Creates a note (lane and colour as the board chooses) and returns its id. */
  newNote (): string
  author (): string
  toast (message: string): void
}

export class PosterView {
  readonly element = document.createElement('section')
  readonly poster: PosterDoc
  private readonly viewport = document.createElement('div')
  private readonly canvas = document.createElement('div')
  private readonly items = document.createElement('div')
  private readonly status = document.createElement('p')
  readonly underlay: PosterUnderlay
  private readonly arrowButton = toolButton(`↗ ${tp('drawArrow')}`)
  private readonly addNoteButton = toolButton(`+ ${tp('newPosterNote')}`)
  private readonly markerButtons: HTMLButtonElement[] = []
  readonly camera: PosterCamera
  private readonly arrows: PosterArrows
  private readonly tray: PosterTray
  readonly notes = new Map<string, PosterNote>()
  readonly markers = new Map<string, PosterMarkerElement>()
  /** Drawing an arrow: null when not, '' while the start note is still to be chosen. */
  private arrowFrom: string | null = null
  private editable = true
  private readonly observer = (): void => this.sync()

  constructor (event: string, private readonly table: TableDoc, private readonly local: object, private readonly host: PosterHost) {
    this.poster = new PosterDoc(table.doc)
    this.underlay = new PosterUnderlay(event)
    this.element.className = 'poster'
    this.element.setAttribute('aria-label', tp('posterRegion'))

    const tools = document.createElement('div')
    tools.className = 'poster__tools'
    tools.setAttribute('role', 'toolbar')
    tools.setAttribute('aria-label', tp('posterTools'))
    const zoomOut = toolButton('−', tp('zoomOut'))
    const zoomIn = toolButton('+', tp('zoomIn'))
    const fit = toolButton(tp('zoomFit'))
    zoomOut.addEventListener('click', () => this.camera.zoomOut())
    zoomIn.addEventListener('click', () => this.camera.zoomIn())
    fit.addEventListener('click', () => this.camera.fit())
    this.addNoteButton.addEventListener('click', () => this.addNote())
    for (const kind of ['tussenstap', 'actor'] as const) {
      const b = toolButton(`+ ${tp(kind === 'actor' ? 'newActor' : 'newTussenstap')}`)
      b.dataset.marker = kind
      b.addEventListener('click', () => this.addMarker(kind))
      this.markerButtons.push(b)
    }
    this.arrowButton.setAttribute('aria-pressed', 'false')
    this.arrowButton.addEventListener('click', () => this.arrowFrom === null ? this.startArrow('') : this.endArrow())
    tools.append(zoomOut, zoomIn, fit, this.addNoteButton, ...this.markerButtons, this.arrowButton)

    this.status.className = 'poster__status'
    this.status.setAttribute('aria-live', 'polite')

    this.viewport.className = 'poster__viewport'
    this.viewport.tabIndex = 0
    this.viewport.setAttribute('role', 'group')
    this.viewport.setAttribute('aria-label', tp('viewportHelp'))
    this.canvas.className = 'poster__canvas'
    this.canvas.style.width = `${POSTER_WIDTH}px`
    this.canvas.style.height = `${POSTER_HEIGHT}px`
    this.items.className = 'poster__items'
    this.arrows = new PosterArrows(id => this.run(() => this.poster.removeArrow(id)))
    this.canvas.append(this.underlay.element, this.arrows.element, this.items, this.arrows.controls)
    this.viewport.append(this.canvas)
    this.camera = new PosterCamera(this.viewport, this.canvas, () => {})
    this.viewport.addEventListener('click', e => this.clickPoster(e))
    // By keyboard, an arrow to a point ends where the view is looking: Enter on the poster.
    this.viewport.addEventListener('keydown', e => {
      if (e.target === this.viewport && e.key === 'Enter' && this.arrowFrom) { e.preventDefault(); this.drawArrow({ kind: 'point', ...this.camera.centre() }) }
    })
    this.element.addEventListener('keydown', e => { if (e.key === 'Escape' && this.arrowFrom !== null) { e.preventDefault(); this.endArrow() } })

    this.tray = new PosterTray(id => this.place(id))
    const stage = document.createElement('div')
    stage.className = 'poster__stage'
    stage.append(this.viewport, this.tray.element)
    this.element.append(tools, this.status, stage)

    table.notes.observeDeep(this.observer)
    this.poster.arrows.observeDeep(this.observer)
    this.poster.markers.observeDeep(this.observer)
    this.sync()
  }

  destroy (): void {
    this.table.notes.unobserveDeep(this.observer)
    this.poster.arrows.unobserveDeep(this.observer)
    this.poster.markers.unobserveDeep(this.observer)
    this.camera.destroy()
    for (const n of this.notes.values()) n.destroy()
    this.element.remove()
  }

  /** Called when the view becomes visible; the camera fits the poster once it has a size. */
  shown (): void { requestAnimationFrame(() => this.camera.fit()) }

  setEditable (on: boolean, newNotes: boolean): void {
    this.editable = on
    this.addNoteButton.hidden = !(on && newNotes)
    this.arrowButton.hidden = !on
    for (const b of this.markerButtons) b.hidden = !on
    for (const n of this.notes.values()) n.setEditable(on)
    for (const m of this.markers.values()) m.setEditable(on)
    this.tray.setEditable(on)
    this.arrows.setEditable(on)
    if (!on) this.endArrow()
  }

  /** Brings the DOM in line with the document. */
  sync (): void {
    const all = this.table.allNotes()
    const placed = all.filter(n => n.poster)
    const seen = new Set<string>()
    for (const view of placed) {
      seen.add(view.id)
      const existing = this.notes.get(view.id)
      if (existing) { existing.update(view); continue }
      const text = this.table.text(view.id)
      if (!text) continue
      const el = new PosterNote(view, text, this.local, this.actions)
      el.setEditable(this.editable)
      this.notes.set(view.id, el)
      this.items.append(el.element)
    }
    for (const [id, el] of this.notes) if (!seen.has(id)) { el.destroy(); this.notes.delete(id) }
    const markers = this.poster.allMarkers()
    const kept = new Set(markers.map(m => m.id))
    for (const m of markers) {
      const existing = this.markers.get(m.id)
      if (existing) { existing.update(m); continue }
      const el = new PosterMarkerElement(m, this.actions)
      el.setEditable(this.editable)
      this.markers.set(m.id, el)
      this.items.append(el.element)
    }
    for (const [id, el] of this.markers) if (!kept.has(id)) { el.destroy(); this.markers.delete(id) }
    this.arrows.draw(this.poster.allArrows(), new Map(placed.map(n => [n.id, centre(n)])))
    this.tray.show(all.filter(n => !n.poster))
  }

  /** A new note in the middle of what is shown, its text ready to write. */
  addNote (): void {
    if (!this.editable) return
    const at = this.freeSpot()
    const id = this.host.newNote()
    if (!id) return
    this.run(() => this.table.setPosterPosition(id, at))
    this.notes.get(id)?.edit()
  }

  private addMarker (kind: MarkerKind): void {
    if (!this.editable) return
    const c = this.camera.centre()
    let id: string | null = null
    this.run(() => { id = this.poster.addMarker(kind, '', c.x, c.y, this.host.author()) })
    if (!id) { this.host.toast(tp('markersFull')); return }
    this.markers.get(id)?.editLabel()
  }

  /** Puts a tray note on the poster where the view is looking. */
  place (id: string): void {
    if (!this.editable) return
    this.run(() => this.table.setPosterPosition(id, this.freeSpot()))
    this.notes.get(id)?.element.focus()
    this.say(tp('placed'))
  }

  private startArrow (from: string): void {
    this.arrowFrom = from
    this.arrowButton.setAttribute('aria-pressed', 'true')
    this.element.classList.add('poster--arrow')
    this.say(tp(from ? 'arrowPickTo' : 'arrowPickFrom'))
  }

  endArrow (): void {
    if (this.arrowFrom === null) return
    this.arrowFrom = null
    this.arrowButton.setAttribute('aria-pressed', 'false')
    this.element.classList.remove('poster--arrow')
  }

  private drawArrow (to: ArrowEnd): void {
    const from = this.arrowFrom
    if (!from) return
    let id: string | null = null
    this.run(() => { id = this.poster.addArrow(from, to, this.host.author()) })
    this.endArrow()
    this.say(tp(id ? 'arrowDrawn' : 'arrowsFull'))
  }

  private clickPoster (e: MouseEvent): void {
    if (!this.arrowFrom || (e.target as HTMLElement).closest('.poster-note, .poster-marker, .poster-arrow-remove')) return
    const p = this.camera.toPoster(e.clientX, e.clientY)
    this.drawArrow({ kind: 'point', x: p.x, y: p.y })
  }

  private readonly actions: ItemActions = {
    move: (kind, id, x, y) => this.run(() => kind === 'note' ? this.table.setPosterPosition(id, { x, y }) : this.poster.moveMarker(id, x, y)),
    nudge: (kind, id, dx, dy) => {
      if (!this.editable) return
      const at = kind === 'note' ? this.table.readNote(id)?.poster : this.poster.allMarkers().find(m => m.id === id)
      if (at) this.actions.move(kind, id, at.x + dx, at.y + dy)
    },
    startDrag: (kind, id, e) => this.drag(kind, id, e),
    pick: (id) => {
      if (this.arrowFrom === null) return false
      if (this.arrowFrom === '') this.startArrow(id)
      else if (this.arrowFrom !== id) this.drawArrow({ kind: 'note', id })
      return true
    },
    startArrow: id => { if (this.editable) this.startArrow(id) },
    unplace: id => { if (this.editable) this.run(() => { this.table.setPosterPosition(id, null); this.poster.removeArrowsOf(id) }) },
    removeMarker: id => { if (this.editable) this.run(() => this.poster.removeMarker(id)) },
    setLabel: (id, label) => { if (this.editable) this.run(() => this.poster.setLabel(id, label)) },
    textEdited: id => this.table.touch(id),
  }

  /** Moves an item with the pointer; the document is written once, on release. */
  private drag (kind: 'note' | 'marker', id: string, e: PointerEvent): void {
    if (!this.editable || e.button !== 0) return
    const el = (kind === 'note' ? this.notes.get(id) : this.markers.get(id))?.element
    const start = kind === 'note' ? this.table.readNote(id)?.poster : this.poster.allMarkers().find(m => m.id === id)
    if (!el || !start) return
    const from = this.camera.toPoster(e.clientX, e.clientY)
    let to = { x: start.x, y: start.y }
    let moved = false
    el.setPointerCapture?.(e.pointerId)
    const move = (ev: PointerEvent): void => {
      const p = this.camera.toPoster(ev.clientX, ev.clientY)
      to = { x: start.x + p.x - from.x, y: start.y + p.y - from.y }
      moved = true
      el.style.transform = `translate(${to.x}px, ${to.y}px)`
    }
    const up = (): void => {
      el.removeEventListener('pointermove', move)
      el.removeEventListener('pointerup', up)
      el.removeEventListener('pointercancel', up)
      if (moved) this.actions.move(kind, id, to.x, to.y)
    }
    el.addEventListener('pointermove', move)
    el.addEventListener('pointerup', up)
    el.addEventListener('pointercancel', up)
  }

  /** The view's centre, moved down a little per note already there, so new notes do not hide each other. */
  private freeSpot (): { x: number, y: number } {
    const c = this.camera.centre()
    let at = { x: c.x - POSTER_NOTE_WIDTH / 2, y: c.y - POSTER_NOTE_HEIGHT / 2 }
    const taken = [...this.notes.values()].map(n => n.view.poster).filter(p => p !== null)
    for (let i = 0; i < 20 && taken.some(p => Math.abs(p.x - at.x) < 40 && Math.abs(p.y - at.y) < 40); i++) {
      at = { x: at.x + 30, y: at.y + 30 }
    }
    return at
  }

  private run (fn: () => void): void { Y.transact(this.table.doc, fn, this.local) }

  private say (message: string): void { this.status.textContent = message }
}

function centre (n: NoteView): { x: number, y: number } {
  const p = n.poster ?? { x: 0, y: 0 }
  return { x: p.x + POSTER_NOTE_WIDTH / 2, y: p.y + POSTER_NOTE_HEIGHT / 2 }
}

function toolButton (text: string, label?: string): HTMLButtonElement {
  const b = document.createElement('button')
  b.type = 'button'
  b.className = 'tool-button'
  b.textContent = text
  if (label) b.setAttribute('aria-label', label)
  return b
}
