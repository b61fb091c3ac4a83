//! The QR codes of the participant link: one for the start page and one per
//! table, laid out as cards that print one per table (to stand on it).
import { qrUrl } from '../facilitation'
import { tf } from '../i18nFacilitation'

export function qrSheet (event: string, tables: Array<{ id: string; title: string }>, version?: number): HTMLElement {
  const section = document.createElement('section')
  section.className = 'qr-sheet'
  const head = document.createElement('div')
  head.className = 'qr-sheet__head'
  const h = document.createElement('h2')
  h.textContent = tf('qrCodes')
  const print = document.createElement('button')
  print.type = 'button'
  print.textContent = tf('qrPrint')
  print.addEventListener('click', () => window.print())
  head.append(h, print)
  const cards = document.createElement('div')
  cards.className = 'qr-sheet__cards'
  cards.append(card(qrUrl(event, undefined, version), tf('qrJoin'), tf('qrStart'), 'start'))
  for (const table of tables) {
    cards.append(card(qrUrl(event, table.id, version), tf('qrTable', { id: table.id.toUpperCase() }), table.title, table.id))
  }
  section.append(head, cards)
  return section
}

function card (src: string, title: string, subtitle: string, id: string): HTMLElement {
  const fig = document.createElement('figure')
  fig.className = `qr-card table-card--${id}`
  fig.dataset.qr = id
  const img = document.createElement('img')
  img.src = src
  img.alt = `${title}: ${subtitle}`
  img.width = 200
  img.height = 200
  const cap = document.createElement('figcaption')
  const strong = document.createElement('strong')
  strong.textContent = title
  cap.append(strong, document.createElement('br'), subtitle)
  fig.append(img, cap)
  return fig
}
