//! One work table on the plenary screen: title, question and the strongest notes per lane,
//! updated in place as summaries arrive.
import type { Lane } from '../schema'
import { t } from '../i18n'
import { el, reconcile, setText } from './el'
import type { OpenSpotlight } from './spotlightTarget'
import { LANES, type NoteView, type TableSummary } from './summary'

/**
 * At most this many notes per lane on a tile. A tile shows one per lane, then adds more lane
 * by lane while they fit (short notes leave room for more); the rest is counted
 * ("+12 meer") and in the spotlight.
 */
export const MAX_PER_LANE = 3

export class TableTile {
  readonly element = el('li', 'pl-tile')
  private readonly open = el('button', 'pl-tile__title')
  private readonly counts = el('p', 'pl-tile__counts')
  private readonly question = el('p', 'pl-tile__question')
  private readonly lanes = new Map<Lane, { list: HTMLOListElement; more: HTMLElement; empty: HTMLElement }>()

  constructor (readonly id: string, private readonly spotlight: OpenSpotlight) {
    this.element.dataset.table = id
    this.element.classList.add(`pl-tile--${id}`)
    this.open.type = 'button'
    this.open.setAttribute('aria-haspopup', 'dialog')
    this.open.addEventListener('click', () => this.spotlight({ kind: 'table', table: id }, this.open))
    // A click anywhere else on the tile opens it too; the title button is its keyboard handle.
    this.element.addEventListener('click', e => {
      if (!(e.target as HTMLElement).closest('button')) this.spotlight({ kind: 'table', table: id }, this.open)
    })
    // A heading, so the lanes' h3 follow an h2 (heading order) and tiles are reachable by heading.
    const head = el('h2', 'pl-tile__head')
    head.append(el('span', 'pl-tile__id', id.toUpperCase()), this.open)
    this.element.append(head, this.question, this.counts)
    for (const lane of LANES) {
      const section = el('section', `pl-lane pl-lane--${lane}`)
      const title = el('h3', 'pl-lane__title')
      const more = el('span', 'pl-lane__more')
      title.append(el('span', 'pl-lane__name', t(`lane_${lane}`)), more)
      const list = el('ol', 'pl-lane__notes')
      const empty = el('p', 'pl-lane__empty', t('plenaryEmpty'))
      section.append(title, list, empty)
      this.element.append(section)
      this.lanes.set(lane, { list, more, empty })
    }
  }

  update (table: TableSummary): void {
    setText(this.open, table.title)
    // The name holds the visible title (label-content-name-mismatch) and says what the button does.
    this.open.setAttribute('aria-label', t('plenaryOpenTable', { id: this.id.toUpperCase(), title: table.title }))
    setText(this.question, table.question)
    setText(this.counts, `${t('peopleAtTable', { n: table.participants })} · ${t('notesCount', { n: table.noteCount })}`)
    this.fill(table)
  }

  /** One note per lane, then one more per lane in turn while the tile does not overflow. */
  private fill (table: TableSummary): void {
    const top: Record<Lane, number> = { goed: 1, doorpakken: 1, vervolgstap: 1 }
    this.renderLanes(table, top)
    const growing = new Set<Lane>(LANES)
    while (growing.size > 0) {
      for (const lane of [...growing]) {
        if (top[lane] >= Math.min(MAX_PER_LANE, table.lanes[lane].length)) {
          growing.delete(lane)
          continue
        }
        top[lane]++
        this.renderLanes(table, top, lane)
        if (this.element.scrollHeight > this.element.clientHeight + 1) {
          top[lane]--
          this.renderLanes(table, top, lane)
          growing.delete(lane)
        }
      }
    }
  }

  private renderLanes (table: TableSummary, top: Record<Lane, number>, only?: Lane): void {
    for (const lane of only ? [only] : LANES) {
      const parts = this.lanes.get(lane)
      if (!parts) continue
      const notes = table.lanes[lane]
      reconcile(parts.list, notes.slice(0, top[lane]), n => n.id, n => this.noteItem(n), updateNoteItem)
      setText(parts.more, notes.length > top[lane] ? t('plenaryMore', { n: notes.length - top[lane] }) : '')
      parts.empty.hidden = notes.length > 0
    }
  }

  private noteItem (note: NoteView): HTMLElement {
    const li = el('li', 'pl-note')
    const button = el('button', 'pl-note__button')
    button.type = 'button'
    button.setAttribute('aria-haspopup', 'dialog')
    button.addEventListener('click', () => this.spotlight({ kind: 'note', table: this.id, note: note.id }, button))
    button.append(el('span', 'pl-note__text'))
    li.append(button)
    return li
  }
}

function updateNoteItem (li: HTMLElement, note: NoteView): void {
  const button = li.firstElementChild as HTMLButtonElement
  li.dataset.noteId = note.id
  li.dataset.color = note.color
  setText(button.firstElementChild as HTMLElement, note.text)
  button.title = note.author ? `${note.text} — ${t('authorSelfDeclared', { author: note.author })}` : note.text
}
