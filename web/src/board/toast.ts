//! A single toast line with an optional action ("Notitie verwijderd — Ongedaan maken").

const TOAST_MS = 8000

/** A button on the toast ("Ongedaan maken"). */
export interface ToastAction { label: string; run: () => void }

export class Toast {
  readonly element = document.createElement('div')
  private timer: number | undefined

  constructor () {
    this.element.className = 'toast'
    this.element.setAttribute('role', 'status')
    this.element.setAttribute('aria-live', 'polite')
    this.element.hidden = true
  }

  show (message: string, action?: ToastAction): void {
    window.clearTimeout(this.timer)
    this.element.replaceChildren()
    const text = document.createElement('span')
    text.textContent = message
    this.element.append(text)
    if (action) {
      const button = document.createElement('button')
      button.type = 'button'
      button.className = 'toast__action'
      button.textContent = action.label
      button.addEventListener('click', () => { action.run(); this.hide() })
      this.element.append(' — ', button)
    }
    this.element.hidden = false
    this.timer = window.setTimeout(() => this.hide(), TOAST_MS)
  }

  hide (): void {
    window.clearTimeout(this.timer)
    this.element.hidden = true
  }
}
