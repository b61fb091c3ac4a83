//! The organiser's download menu at the foot of the plenary: every export of the event,
//! optionally without author names.
import { withKey } from '../access'
import { t, type Key } from '../i18n'
import { el } from './el'

/** Each export: its label and the path after /api/events/{event}/, with its own query. */
const EXPORTS: ReadonlyArray<{ label: Key; file: string; query?: string }> = [
  { label: 'exportMd', file: 'export.md' },
  { label: 'exportXlsx', file: 'export.xlsx' },
  { label: 'exportCsv', file: 'export.csv', query: 'delimiter=semicolon' },
  { label: 'exportHtml', file: 'export.html' },
  { label: 'exportJson', file: 'export.json' },
  { label: 'exportZip', file: 'export.zip' },
]

export function exportMenu (event: string): HTMLElement {
  const menu = el('details', 'pl-downloads')
  menu.append(el('summary', 'pl-downloads__summary', t('plenaryDownloads')))
  const list = el('ul', 'pl-downloads__list')
  const links = EXPORTS.map(({ label, file, query }) => {
    const a = el('a', 'pl-downloads__link', t(label))
    a.dataset.export = file
    a.dataset.query = query ?? ''
    const li = el('li')
    li.append(a)
    list.append(li)
    return a
  })
  const anonymous = el('input')
  anonymous.type = 'checkbox'
  anonymous.className = 'pl-downloads__anonymous'
  const label = el('label', 'pl-downloads__toggle')
  label.append(anonymous, ` ${t('exportAnonymous')}`)
  const setHrefs = (): void => {
    for (const a of links) {
      const params = new URLSearchParams(a.dataset.query)
      if (anonymous.checked) params.set('anonymous', '1')
      const query = params.toString()
      a.href = withKey(event, `/api/events/${encodeURIComponent(event)}/${a.dataset.export ?? ''}${query ? `?${query}` : ''}`)
    }
  }
  anonymous.addEventListener('change', setHrefs)
  setHrefs()
  const panel = el('div', 'pl-downloads__panel')
  panel.append(list, label)
  menu.append(panel)
  return menu
}
