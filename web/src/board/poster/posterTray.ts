//! The tray beside the poster: the table's notes that have no place on the
//! poster yet (written in the lanes, or taken off the poster), each with a
//! button that places it where the poster view is looking.
import { tp } from '../../i18nPoster'
import type { NoteView } from '../../schema'

export class PosterTray {
  readonly element = document.createElement('aside')
  private readonly list = document.createElement('ul')
  private readonly empty = document.createElement('p')
  private editable = true

  constructor (private readonly place: (id: string) => void) {
    this.element.className = 'poster-tray'
    const heading = document.createElement('h2')
    heading.className = 'poster-tray__title'
    heading.id = 'poster-tray-title'
    heading.textContent = tp('tray')
    this.element.setAttribute('aria-labelledby', heading.id)
    this.empty.className = 'poster-tray__empty'
    this.empty.textContent = tp('trayEmpty')
    this.element.append(heading, this.list, this.empty)
  }

  setEditable (on: boolean): void {
    this.editable = on
    for (const b of this.list.querySelectorAll('button')) b.disabled = !on
  }

  show (notes: NoteView[]): void {
    const items = notes.map(n => {
      const li = document.createElement('li')
      li.className = `poster-tray__note note--${n.color}`
      li.dataset.noteId = n.id
      const text = document.createElement('span')
      text.textContent = n.text || '…'
      const b = document.createElement('button')
      b.type = 'button'
      b.className = 'tool-button'
      b.textContent = tp('place')
      b.setAttribute('aria-label', `${tp('place')}: ${n.text.slice(0, 60)}`)
      b.disabled = !this.editable
      b.addEventListener('click', () => this.place(n.id))
      li.append(text, b)
      return li
    })
    // Keep focus in the tray when the placed note's button goes away.
    const hadFocus = this.list.contains(document.activeElement)
    this.list.replaceChildren(...items)
    this.empty.hidden = items.length > 0
    if (hadFocus && !this.element.contains(document.activeElement)) items[0]?.querySelector('button')?.focus()
  }
}
