//! Notes per table and lane as one stacked bar per table (plain HTML), each bar labelled
//! for screen readers with the same numbers in words.
import { t } from '../i18n'
import { el, reconcile, setText } from './el'
import { LANES, type TableSummary } from './summary'

export class LaneChart {
  readonly element = el('figure', 'pl-chart')
  // Not a list: each row is an image with a text alternative, which a list may not hold.
  private readonly rows = el('div', 'pl-chart__rows')

  constructor () {
    const caption = el('figcaption', 'pl-panel__title', t('plenaryChart'))
    const legend = el('ul', 'pl-chart__legend')
    legend.setAttribute('aria-hidden', 'true')
    for (const lane of LANES) legend.append(el('li', `pl-chart__key pl-chart__key--${lane}`, t(`lane_${lane}`)))
    this.element.append(caption, this.rows, legend)
  }

  update (tables: TableSummary[]): void {
    const max = Math.max(1, ...tables.map(table => table.noteCount))
    reconcile(this.rows, tables, table => table.id, createRow, (row, table) => updateRow(row, table, max))
  }
}

function createRow (table: TableSummary): HTMLElement {
  const row = el('div', 'pl-chart__row')
  row.setAttribute('role', 'img')
  const bar = el('span', 'pl-chart__bar')
  for (const lane of LANES) bar.append(el('span', `pl-chart__segment pl-chart__segment--${lane}`))
  row.append(el('span', 'pl-chart__label', table.id.toUpperCase()), bar, el('span', 'pl-chart__total'))
  return row
}

function updateRow (row: HTMLElement, table: TableSummary, max: number): void {
  const counts = table.laneCounts
  row.setAttribute('aria-label', t('plenaryChartRow', { id: table.id.toUpperCase(), ...counts }))
  row.dataset.table = table.id
  const segments = row.querySelectorAll<HTMLElement>('.pl-chart__segment')
  LANES.forEach((lane, i) => {
    const segment = segments[i]
    segment.style.width = `${(counts[lane] / max) * 100}%`
    setText(segment, counts[lane] > 0 ? String(counts[lane]) : '')
  })
  setText(row.querySelector('.pl-chart__total') as HTMLElement, String(table.noteCount))
}
