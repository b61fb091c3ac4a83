//! The spotlight: a table or a note enlarged over the plenary for discussion. A modal
//! <dialog>, so focus stays inside and Escape closes it; it follows live updates while open.
import { withKey } from '../access'
import { t } from '../i18n'
import { el } from './el'
import { posterPicture } from './posterPicture'
import type { SpotlightTarget } from './spotlightTarget'
import { findNote, LANES, type Summary, type TableSummary } from './summary'

export class Spotlight {
  readonly element = el('dialog', 'pl-spotlight')
  private readonly body = el('div', 'pl-spotlight__body')
  private target: SpotlightTarget | null = null
  private opener: HTMLElement | null = null
  private rendered = ''

  constructor (private readonly event: string) {
    const close = el('button', 'pl-spotlight__close', '×')
    close.type = 'button'
    close.setAttribute('aria-label', t('plenaryClose'))
    close.title = t('plenaryClose')
    close.addEventListener('click', () => this.element.close())
    // A click on the dimmed backdrop (the dialog itself, outside its content) closes too.
    this.element.addEventListener('click', e => { if (e.target === this.element) this.element.close() })
    this.element.addEventListener('close', () => this.closed())
    this.element.append(close, this.body)
  }

  get current (): SpotlightTarget | null {
    return this.target
  }

  open (target: SpotlightTarget, opener: HTMLElement, summary: Summary): void {
    this.target = target
    this.opener = opener
    this.rendered = ''
    this.update(summary)
    this.element.dataset.kind = target.kind
    if (!this.element.open) this.element.showModal()
    this.body.scrollTop = 0
  }

  /** Redraws the open spotlight from a new summary, only if what it shows changed. */
  update (summary: Summary): void {
    const target = this.target
    if (!target) return
    const table = summary.tables.find(x => x.id === target.table)
    const content = target.kind === 'table' ? (table ? this.table(table) : null) : this.note(summary, target.table, target.note)
    const html = content?.outerHTML ?? ''
    if (html === this.rendered) return
    this.rendered = html
    this.body.replaceChildren(content ?? el('p', 'pl-spotlight__gone', t('plenaryDeleted')))
  }

  private closed (): void {
    this.target = null
    this.rendered = ''
    this.body.replaceChildren()
    if (this.opener?.isConnected) this.opener.focus()
    this.opener = null
  }

  private table (table: TableSummary): HTMLElement {
    const wrap = el('article', 'pl-spot-table')
    const head = el('header', 'pl-spot-table__head')
    head.append(el('span', `pl-badge pl-badge--${table.id}`, table.id.toUpperCase()), el('h2', 'pl-spot-table__title', table.title))
    const svg = el('a', 'pl-spot-table__svg', t('exportSvg'))
    svg.href = withKey(this.event, `/api/events/${encodeURIComponent(this.event)}/tables/${encodeURIComponent(table.id)}/board.svg`)
    svg.target = '_blank'
    head.append(svg)
    const lanes = el('div', 'pl-spot-table__lanes')
    for (const lane of LANES) {
      const section = el('section', `pl-lane pl-lane--${lane}`)
      section.append(el('h3', 'pl-lane__title', `${t(`lane_${lane}`)} (${table.lanes[lane].length})`))
      const list = el('ol', 'pl-lane__notes')
      for (const note of table.lanes[lane]) {
        const li = el('li', 'pl-note', note.text)
        li.dataset.color = note.color
        list.append(li)
      }
      section.append(list)
      lanes.append(section)
    }
    wrap.append(head, el('p', 'pl-spot-table__question', table.question), lanes)
    // Lanes and poster are two views of the same notes: a poster table shows both.
    const poster = posterPicture(this.event, table)
    if (poster) wrap.append(poster)
    return wrap
  }

  private note (summary: Summary, tableId: string, id: string): HTMLElement | null {
    const found = findNote(summary, tableId, id)
    if (!found) return null
    const { table, note } = found
    const wrap = el('article', `pl-spot-note pl-lane--${note.lane}`)
    wrap.dataset.color = note.color
    const head = el('p', 'pl-spot-note__where')
    head.append(el('span', `pl-badge pl-badge--${table.id}`, table.id.toUpperCase()), ` ${table.title} · `, el('strong', 'pl-spot-note__lane', t(`lane_${note.lane}`)))
    wrap.append(head, el('p', 'pl-spot-note__text', note.text))
    if (note.author) {
      const by = el('p', 'pl-spot-note__author', t('noteBy', { author: note.author }))
      by.title = t('authorSelfDeclared', { author: note.author })
      wrap.append(by)
    }
    return wrap
  }
}
