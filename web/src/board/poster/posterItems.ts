//! The things on the poster as real, focusable HTML: a note (its text
//! editable in place, bound to its Y.Text) and a "tussenstap" or "actor"
//! marker with its label. Arrow keys move the focused item; the view owns
//! every document write and the conversion from screen to poster units.
import type * as Y from 'yjs'
import type { NoteView } from '../../schema'
import { MAX_MARKER_LABEL_CHARS, POSTER_NOTE_HEIGHT, POSTER_NOTE_WIDTH, type PosterMarker } from '../../poster'
import { tp } from '../../i18nPoster'
import { TextBinding } from '../textBinding'

/** Poster units an item moves per arrow key press (ten times that with Shift). */
export const STEP = 10

/** What an item asks of the poster view. */
export interface ItemActions {
  move (kind: 'note' | 'marker', id: string, x: number, y: number): void
  nudge (kind: 'note' | 'marker', id: string, dx: number, dy: number): void
  startDrag (kind: 'note' | 'marker', id: string, e: PointerEvent): void
  /** A note was chosen (clicked, or Enter/A pressed) while an arrow is being drawn. */
  pick (id: string, e: Event): boolean
  startArrow (id: string): void
  unplace (id: string): void
  removeMarker (id: string): void
  setLabel (id: string, label: string): void
  textEdited (id: string): void
}

export class PosterNote {
  readonly element = document.createElement('div')
  readonly textarea = document.createElement('textarea')
  private readonly binding: TextBinding

  constructor (public view: NoteView, text: Y.Text, origin: unknown, private readonly actions: ItemActions) {
    const el = this.element
    el.className = `poster-note note--${view.color}`
    el.dataset.noteId = view.id
    el.tabIndex = 0
    el.setAttribute('role', 'group')
    el.style.width = `${POSTER_NOTE_WIDTH}px`
    el.style.minHeight = `${POSTER_NOTE_HEIGHT}px`
    this.textarea.className = 'poster-note__text'
    this.textarea.rows = 3
    this.textarea.tabIndex = -1
    this.textarea.setAttribute('aria-label', tp('newPosterNote'))
    this.binding = new TextBinding(this.textarea, text, origin, () => actions.textEdited(view.id))
    el.append(this.textarea)
    el.addEventListener('keydown', e => this.onKey(e))
    this.textarea.addEventListener('keydown', e => {
      if (e.key === 'Escape') { e.preventDefault(); e.stopPropagation(); el.focus() }
    })
    this.textarea.addEventListener('blur', () => { this.textarea.tabIndex = -1 })
    el.addEventListener('pointerdown', e => {
      if (e.target === this.textarea && document.activeElement === this.textarea) return
      if (actions.pick(view.id, e)) { e.preventDefault(); return }
      actions.startDrag('note', view.id, e)
    })
    this.update(view)
  }

  update (view: NoteView): void {
    this.view = view
    const at = view.poster ?? { x: 0, y: 0 }
    this.element.style.transform = `translate(${at.x}px, ${at.y}px)`
    this.element.className = `poster-note note--${view.color}`
    this.element.setAttribute('aria-label', tp('noteOnPoster', { text: view.text.slice(0, 80) }))
  }

  /** Puts the caret in the text, to write. */
  edit (): void {
    this.textarea.tabIndex = 0
    this.textarea.focus()
  }

  setEditable (on: boolean): void { this.textarea.readOnly = !on }

  destroy (): void {
    this.binding.destroy()
    this.element.remove()
  }

  private onKey (e: KeyboardEvent): void {
    if (e.target !== this.element) return
    const d = arrowDelta(e)
    if (d) { e.preventDefault(); this.actions.nudge('note', this.view.id, d.dx, d.dy); return }
    if (e.key === 'Enter' || e.key.toLowerCase() === 'a') {
      e.preventDefault()
      if (this.actions.pick(this.view.id, e)) return
      if (e.key === 'Enter') this.edit()
      else this.actions.startArrow(this.view.id)
    } else if (e.key === 'Delete' || e.key === 'Backspace') {
      e.preventDefault()
      this.actions.unplace(this.view.id)
    }
  }
}

export class PosterMarkerElement {
  readonly element = document.createElement('div')
  private readonly input = document.createElement('input')
  private readonly remove = document.createElement('button')

  constructor (public marker: PosterMarker, actions: ItemActions) {
    const el = this.element
    el.className = `poster-marker poster-marker--${marker.kind}`
    el.dataset.markerId = marker.id
    el.tabIndex = 0
    el.setAttribute('role', 'group')
    const shape = document.createElement('span')
    shape.className = 'poster-marker__shape'
    shape.setAttribute('aria-hidden', 'true')
    this.input.className = 'poster-marker__label'
    this.input.maxLength = MAX_MARKER_LABEL_CHARS
    this.input.setAttribute('aria-label', tp('markerLabel', { kind: tp(`marker_${marker.kind}`) }))
    this.input.addEventListener('change', () => actions.setLabel(marker.id, this.input.value))
    this.input.addEventListener('keydown', e => {
      if (e.key === 'Enter' || e.key === 'Escape') { e.preventDefault(); actions.setLabel(marker.id, this.input.value); el.focus() }
    })
    this.remove.type = 'button'
    this.remove.className = 'poster-marker__remove'
    this.remove.textContent = '✕'
    this.remove.setAttribute('aria-label', tp('removeMarker'))
    this.remove.addEventListener('click', () => actions.removeMarker(marker.id))
    el.append(shape, this.input, this.remove)
    el.addEventListener('keydown', e => {
      if (e.target !== el) return
      const d = arrowDelta(e)
      if (d) { e.preventDefault(); actions.nudge('marker', marker.id, d.dx, d.dy) } else if (e.key === 'Delete') { e.preventDefault(); actions.removeMarker(marker.id) } else if (e.key === 'Enter') { e.preventDefault(); this.input.focus() }
    })
    el.addEventListener('pointerdown', e => {
      if (e.target === this.input || e.target === this.remove) return
      actions.startDrag('marker', marker.id, e)
    })
    this.update(marker)
  }

  update (marker: PosterMarker): void {
    this.marker = marker
    this.element.style.transform = `translate(${marker.x}px, ${marker.y}px)`
    if (document.activeElement !== this.input) this.input.value = marker.label
    this.element.setAttribute('aria-label', tp('markerOnPoster', { kind: tp(`marker_${marker.kind}`), label: marker.label }))
  }

  editLabel (): void { this.input.focus() }

  setEditable (on: boolean): void {
    this.input.readOnly = !on
    this.remove.hidden = !on
  }

  destroy (): void { this.element.remove() }
}

function arrowDelta (e: KeyboardEvent): { dx: number, dy: number } | null {
  const step = e.shiftKey ? STEP * 10 : STEP
  switch (e.key) {
    case 'ArrowLeft': return { dx: -step, dy: 0 }
    case 'ArrowRight': return { dx: step, dy: 0 }
    case 'ArrowUp': return { dx: 0, dy: -step }
    case 'ArrowDown': return { dx: 0, dy: step }
    default: return null
  }
}
