//! One work table on the plenary screen: title, question and the strongest notes per lane,
//! updated in place as summaries arrive.
import type { Lane } from '../schema'
import { t } from '../i18n'
import { el, reconcile, setText } from './el'
import type { OpenSpotlight } from './spotlightTarget'
import { LANES, type NoteView, type TableSummary } from './summary'

/** Notes shown per lane on a tile; the rest is counted ("+12 meer") and in the spotlight. */
export const TOP_PER_LANE = 3

export class TableTile {
  readonly element = el('li', 'pl-tile')
  private readonly open = el('button', 'pl-tile__title')
  private readonly counts = el('p', 'pl-tile__counts')
  private readonly question = el('p', 'pl-tile__question')
  private readonly lanes = new Map<Lane, { count: HTMLElement; list: HTMLOListElement; more: HTMLElement }>()

  constructor (readonly id: string, private readonly spotlight: OpenSpotlight) {
    this.element.dataset.table = id
    this.element.classList.add(`pl-tile--${id}`)
    this.open.type = 'button'
    this.open.setAttribute('aria-haspopup', 'dialog')
    this.open.setAttribute('aria-label', t('plenaryOpenTable', { id: id.toUpperCase() }))
    this.open.addEventListener('click', () => this.spotlight({ kind: 'table', table: id }, this.open))
    // A click anywhere else on the tile opens it too; the title button is its keyboard handle.
    this.element.addEventListener('click', e => {
      if (!(e.target as HTMLElement).closest('button')) this.spotlight({ kind: 'table', table: id }, this.open)
    })
    const head = el('div', 'pl-tile__head')
    head.append(el('span', 'pl-tile__id', id.toUpperCase()), this.open)
    this.element.append(head, this.question, this.counts)
    for (const lane of LANES) {
      const section = el('section', `pl-lane pl-lane--${lane}`)
      const title = el('h3', 'pl-lane__title', t(`lane_${lane}`))
      const count = el('span', 'pl-lane__count')
      title.append(' ', count)
      const list = el('ol', 'pl-lane__notes')
      const more = el('p', 'pl-lane__more')
      section.append(title, list, more)
      this.element.append(section)
      this.lanes.set(lane, { count, list, more })
    }
  }

  update (table: TableSummary): void {
    setText(this.open, table.title)
    setText(this.question, table.question)
    setText(this.counts, `${t('peopleAtTable', { n: table.participants })} · ${t('notesCount', { n: table.noteCount })}`)
    for (const lane of LANES) {
      const parts = this.lanes.get(lane)
      if (!parts) continue
      const notes = table.lanes[lane]
      setText(parts.count, `(${notes.length})`)
      reconcile(parts.list, notes.slice(0, TOP_PER_LANE), n => n.id, n => this.noteItem(n), updateNoteItem)
      const rest = notes.length - TOP_PER_LANE
      setText(parts.more, rest > 0 ? t('plenaryMore', { n: rest }) : notes.length === 0 ? t('plenaryEmpty') : '')
      parts.more.classList.toggle('pl-lane__more--empty', notes.length === 0)
    }
  }

  private noteItem (note: NoteView): HTMLElement {
    const li = el('li', 'pl-note')
    const button = el('button', 'pl-note__button')
    button.type = 'button'
    button.setAttribute('aria-haspopup', 'dialog')
    button.addEventListener('click', () => this.spotlight({ kind: 'note', table: this.id, note: note.id }, button))
    li.append(button)
    return li
  }
}

function updateNoteItem (li: HTMLElement, note: NoteView): void {
  const button = li.firstElementChild as HTMLButtonElement
  li.dataset.noteId = note.id
  li.dataset.color = note.color
  setText(button, note.text)
  button.title = note.author ? `${note.text} — ${note.author}` : note.text
}
