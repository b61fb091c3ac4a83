//! One sticky note as real HTML: a textarea bound to the note's Y.Text, a grip
//! to drag it, buttons to move it between lanes, recolour and delete it, and
//! the names of whoever else is typing in it.
import { tm } from '../market/i18nMarket'
import * as Y from 'yjs'
import { COLORS, LANES, NOTE_WIDTH, type Color, type Lane, type NextStepField, type NoteView } from '../schema'
import { t } from '../i18n'
import { tf } from '../i18nFacilitation'
import { TextBinding } from './textBinding'
import { NextStepFields } from './nextStepFields'
import type { Editor } from './presence'

/** What a note asks of the board; the board owns the document writes. */
export interface NoteActions {
  moveToLane (id: string, lane: Lane): void
  nudge (id: string, dx: number, dy: number): void
  setColor (id: string, color: Color): void
  remove (id: string): void
  textEdited (id: string): void
  focusChanged (id: string, focused: boolean): void
  startDrag (id: string, e: PointerEvent): void
  setNextStep (id: string, field: NextStepField, value: string): void
  ungroup (id: string): void
}

/** Board units a note moves per arrow key press on its grip. */
const NUDGE = 24

export class NoteElement {
  readonly element = document.createElement('article')
  readonly textarea = document.createElement('textarea')
  private readonly author = document.createElement('span')
  /** "uit de markt · OT 2" on a note brought in from a market tip. */
  private readonly source = document.createElement('span')
  private readonly grip = document.createElement('button')
  private readonly left = iconButton('←')
  private readonly right = iconButton('→')
  private readonly remove = iconButton('✕')
  private readonly ungroup = iconButton('⇱')
  private readonly draftMark = document.createElement('p')
  private readonly nextStep: NextStepFields
  /** Where the board shows this note's votes (empty outside voting). */
  readonly votes = document.createElement('div')
  private editable = true
  private readonly swatches = new Map<Color, HTMLButtonElement>()
  private readonly editors = document.createElement('div')
  private readonly binding: TextBinding
  /** Whether `update` has drawn the note once. */
  private drawn = false
  view: NoteView

  constructor (view: NoteView, readonly text: Y.Text, origin: unknown, private readonly actions: NoteActions, readonly draft = false) {
    this.view = view
    const el = this.element
    el.className = 'note'
    el.dataset.noteId = view.id

    this.textarea.className = 'note__text'
    this.textarea.rows = 1
    this.textarea.placeholder = t('notePlaceholder')
    this.textarea.spellcheck = true
    this.binding = new TextBinding(this.textarea, text, origin, () => actions.textEdited(view.id))
    this.textarea.addEventListener('input', () => this.autosize())
    this.textarea.addEventListener('remote-change', () => this.autosize())
    this.textarea.addEventListener('focus', () => actions.focusChanged(view.id, true))
    this.textarea.addEventListener('blur', () => actions.focusChanged(view.id, false))
    this.textarea.addEventListener('keydown', e => this.onTextKey(e))

    const bar = document.createElement('div')
    bar.className = 'note__bar'
    this.grip.type = 'button'
    this.grip.className = 'note__grip'
    this.grip.textContent = '⠿'
    this.grip.addEventListener('pointerdown', e => actions.startDrag(view.id, e))
    this.grip.addEventListener('keydown', e => this.onGripKey(e))
    this.author.className = 'note__author'
    this.source.className = 'note__source'
    bar.append(this.grip, this.author, this.source)

    const tools = document.createElement('div')
    tools.className = 'note__tools'
    this.left.addEventListener('click', () => this.shiftLane(-1))
    this.right.addEventListener('click', () => this.shiftLane(1))
    const palette = document.createElement('div')
    palette.className = 'note__palette'
    palette.setAttribute('role', 'radiogroup')
    for (const color of COLORS) {
      const b = document.createElement('button')
      b.type = 'button'
      b.className = `swatch swatch--${color}`
      b.setAttribute('role', 'radio')
      b.addEventListener('click', () => actions.setColor(view.id, color))
      this.swatches.set(color, b)
      palette.append(b)
    }
    this.remove.classList.add('note__delete')
    this.remove.addEventListener('click', () => actions.remove(view.id))
    this.ungroup.addEventListener('click', () => actions.ungroup(view.id))
    tools.append(this.left, this.right, this.ungroup, palette, this.remove)
    this.draftMark.className = 'note__draft'
    this.draftMark.textContent = tf('draft')
    this.draftMark.hidden = !draft
    el.classList.toggle('note--draft', draft)
    this.nextStep = new NextStepFields((field, value) => actions.setNextStep(view.id, field, value))
    this.votes.className = 'note__votes'

    this.editors.className = 'note__editors'
    this.editors.setAttribute('aria-live', 'polite')

    // DOM order is the tab order: the text first, then the note's tools.
    el.append(this.draftMark, this.textarea, this.nextStep.element, this.votes, bar, tools, this.editors)
    this.update(view)
  }

  /**
   * Shows `view`. Text is the binding's job and positions the lane's, so a
   * change of neither colour, lane, author, group nor next step (a remote
   * keystroke stamping `updatedAt`) writes nothing.
   */
  update (view: NoteView): void {
    const before = this.view
    this.view = view
    if (this.drawn && sameLook(before, view)) return
    this.drawn = true
    const el = this.element
    for (const c of COLORS) el.classList.toggle(`note--${c}`, c === view.color)
    const laneName = t(`lane_${view.lane}`)
    el.setAttribute('aria-label', t('noteLabel', { author: view.author || '?', lane: laneName }))
    this.textarea.setAttribute('aria-label', t('noteLabel', { author: view.author || '?', lane: laneName }))
    this.author.textContent = view.author
    const stand = view.provenance?.stand.replace(/^markt-ot/, '')
    this.source.textContent = stand ? tm('fromStand', { n: stand }) : ''
    this.source.hidden = !stand
    // Anyone can type any name on a note; only votes carry a signed identity.
    this.author.title = view.author ? t('authorSelfDeclared', { author: view.author }) : ''
    this.grip.setAttribute('aria-label', t('dragHandle'))
    this.grip.title = t('dragHandle')
    const i = LANES.indexOf(view.lane)
    label(this.left, t('moveLeft'))
    label(this.right, t('moveRight'))
    this.left.disabled = i === 0
    this.right.disabled = i === LANES.length - 1
    label(this.remove, t('delete'))
    label(this.ungroup, tf('ungroup'))
    this.ungroup.hidden = !view.group
    this.nextStep.element.hidden = view.lane !== 'vervolgstap'
    this.nextStep.update(view, this.editable)
    for (const [color, b] of this.swatches) {
      label(b, `${t('color')}: ${t(`color_${color}`)}`)
      b.setAttribute('aria-checked', String(color === view.color))
    }
  }

  get x (): number { return this.view.x }
  get y (): number { return this.view.y }
  get width (): number { return NOTE_WIDTH }

  /** Places the note at its board x and at `top` px; `scale` is CSS px per board unit. */
  place (scale: number, order: number, top: number): void {
    const s = this.element.style
    s.setProperty('--x', `${this.view.x * scale}px`)
    s.setProperty('--y', `${top}px`)
    s.setProperty('--w', `${NOTE_WIDTH * scale}px`)
    s.order = String(order)
  }

  setEditors (editors: Editor[]): void {
    const el = this.element
    el.classList.toggle('note--edited', editors.length > 0)
    el.style.setProperty('--editor', editors[0]?.color ?? 'transparent')
    this.editors.replaceChildren(...editors.map(ed => {
      const tag = document.createElement('span')
      tag.className = 'note__editor'
      tag.style.background = ed.color
      tag.textContent = t('editing', { name: ed.name })
      return tag
    }))
  }

  /** Read-only while the table is locked or closed: text, tools and fields. */
  setEditable (editable: boolean): void {
    this.editable = editable
    this.element.classList.toggle('note--readonly', !editable)
    this.textarea.readOnly = !editable
    this.grip.disabled = !editable
    this.nextStep.update(this.view, editable)
  }

  autosize (): void {
    const ta = this.textarea
    ta.style.height = 'auto'
    ta.style.height = `${ta.scrollHeight}px`
  }

  focusText (): void {
    this.textarea.focus()
    this.textarea.setSelectionRange(this.textarea.value.length, this.textarea.value.length)
  }

  destroy (): void {
    this.binding.destroy()
    this.element.remove()
  }

  private shiftLane (step: number): void {
    const next = LANES[LANES.indexOf(this.view.lane) + step]
    if (next) this.actions.moveToLane(this.view.id, next)
  }

  private onTextKey (e: KeyboardEvent): void {
    if (e.key === 'Escape') {
      e.preventDefault()
      this.grip.focus()
    } else if (e.altKey && e.shiftKey && (e.key === 'ArrowLeft' || e.key === 'ArrowRight')) {
      e.preventDefault()
      this.shiftLane(e.key === 'ArrowLeft' ? -1 : 1)
    }
  }

  private onGripKey (e: KeyboardEvent): void {
    const arrows: Record<string, [number, number]> = {
      ArrowLeft: [-NUDGE, 0], ArrowRight: [NUDGE, 0], ArrowUp: [0, -NUDGE], ArrowDown: [0, NUDGE],
    }
    const d = arrows[e.key]
    if (!d) {
      if (e.key === 'Enter') { e.preventDefault(); this.focusText() }
      return
    }
    e.preventDefault()
    if (e.altKey && d[0] !== 0) this.shiftLane(Math.sign(d[0]))
    else this.actions.nudge(this.view.id, d[0], d[1])
  }
}

function sameLook (a: NoteView, b: NoteView): boolean {
  return a.color === b.color && a.lane === b.lane && a.author === b.author &&
    a.group === b.group && a.owner === b.owner && a.due === b.due &&
    a.provenance?.stand === b.provenance?.stand
}

function iconButton (glyph: string): HTMLButtonElement {
  const b = document.createElement('button')
  b.type = 'button'
  b.className = 'note__tool'
  b.textContent = glyph
  return b
}

function label (b: HTMLButtonElement, text: string): void {
  b.setAttribute('aria-label', text)
  b.title = text
}
