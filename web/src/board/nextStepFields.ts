//! The two fields of a next step on its note: who takes it on (wie) and when
//! (wanneer). Plain strings in the note (docs/schema.md), written on every
//! keystroke; a remote change never overwrites the field you are typing in.
import type { NextStepField } from '../schema'
import { tf } from '../i18nFacilitation'

export class NextStepFields {
  readonly element = document.createElement('div')
  private readonly inputs: Record<NextStepField, HTMLInputElement>

  constructor (onInput: (field: NextStepField, value: string) => void) {
    this.element.className = 'note__next'
    const field = (name: NextStepField, label: string, placeholder: string): HTMLInputElement => {
      const wrap = document.createElement('label')
      wrap.className = `note__next-field note__next-field--${name}`
      const caption = document.createElement('span')
      caption.textContent = label
      const input = document.createElement('input')
      input.name = name
      input.maxLength = 80
      input.placeholder = placeholder
      input.autocomplete = 'off'
      input.addEventListener('input', () => onInput(name, input.value))
      wrap.append(caption, input)
      this.element.append(wrap)
      return input
    }
    this.inputs = {
      owner: field('owner', tf('owner'), tf('ownerPlaceholder')),
      due: field('due', tf('due'), tf('duePlaceholder')),
    }
  }

  update (values: Record<NextStepField, string>, editable: boolean): void {
    for (const name of ['owner', 'due'] as const) {
      const input = this.inputs[name]
      if (document.activeElement !== input && input.value !== values[name]) input.value = values[name]
      input.readOnly = !editable
    }
    // Empty fields stay out of sight until the table turns to next steps (board.css).
    this.element.classList.toggle('note__next--empty', !values.owner && !values.due)
  }
}
