//! A group of notes on the board: a labelled frame at its board position
//! whose title is a live Y.Text, holding its notes one under the other, with
//! a grip to move it and a button to dissolve it.
import type * as Y from 'yjs'
import { GROUP_WIDTH, type GroupView } from '../groups'
import { tf } from '../i18nFacilitation'
import { TextBinding } from './textBinding'

export interface GroupActions {
  startDrag (id: string, e: PointerEvent): void
  dissolve (id: string): void
  titleEdited (id: string): void
}

export class GroupElement {
  readonly element = document.createElement('section')
  /** Where the group's notes go. */
  readonly body = document.createElement('div')
  private readonly title = document.createElement('textarea')
  private readonly grip = document.createElement('button')
  private readonly dissolve = document.createElement('button')
  private readonly binding: TextBinding
  view: GroupView

  constructor (view: GroupView, ytitle: Y.Text, origin: unknown, actions: GroupActions) {
    this.view = view
    const el = this.element
    el.className = 'group'
    el.dataset.groupId = view.id
    const head = document.createElement('header')
    head.className = 'group__head'
    this.grip.type = 'button'
    this.grip.className = 'note__grip'
    this.grip.textContent = '⠿'
    this.grip.title = tf('groupDrag')
    this.grip.setAttribute('aria-label', tf('groupDrag'))
    this.grip.addEventListener('pointerdown', e => actions.startDrag(view.id, e))
    this.title.className = 'group__title'
    this.title.rows = 1
    this.title.placeholder = tf('groupPlaceholder')
    this.title.setAttribute('aria-label', tf('groupTitle'))
    this.binding = new TextBinding(this.title, ytitle, origin, () => actions.titleEdited(view.id))
    this.dissolve.type = 'button'
    this.dissolve.className = 'note__tool group__dissolve'
    this.dissolve.textContent = '✕'
    this.dissolve.title = tf('ungroupAll')
    this.dissolve.setAttribute('aria-label', tf('ungroupAll'))
    this.dissolve.addEventListener('click', () => actions.dissolve(view.id))
    head.append(this.grip, this.title, this.dissolve)
    this.body.className = 'group__body'
    el.setAttribute('aria-label', tf('groupTitle'))
    el.append(head, this.body)
  }

  get x (): number { return this.view.x }
  get y (): number { return this.view.y }
  get width (): number { return GROUP_WIDTH }

  update (view: GroupView): void {
    this.view = view
  }

  place (scale: number, order: number, top: number): void {
    const s = this.element.style
    s.setProperty('--x', `${this.view.x * scale}px`)
    s.setProperty('--y', `${top}px`)
    s.setProperty('--w', `${GROUP_WIDTH * scale}px`)
    s.order = String(order)
  }

  setEditable (editable: boolean): void {
    this.title.readOnly = !editable
    this.grip.disabled = !editable
    this.dissolve.hidden = !editable
  }

  focusTitle (): void {
    this.title.focus()
  }

  destroy (): void {
    this.binding.destroy()
    this.element.remove()
  }
}
