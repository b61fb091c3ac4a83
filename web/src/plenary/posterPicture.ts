//! A poster table on the plenary: the poster image with the table's placed
//! notes, markers and arrows drawn over it, read-only, scaled to its box.
//! Built from the summary JSON (positions in poster units), like the export's
//! `export::svg::poster`; the notes stay text, so the page reader reads them.
import { withKey } from '../access'
import { tp } from '../i18nPoster'
import { POSTER_NOTE_HEIGHT, POSTER_NOTE_WIDTH } from '../poster'
import { POSTER_HEIGHT, POSTER_WIDTH } from '../schema'
import { el } from './el'
import { LANES, type TableSummary } from './summary'

const SVG = 'http://www.w3.org/2000/svg'

export function posterPicture (event: string, table: TableSummary): HTMLElement | null {
  if (!table.poster) return null
  const figure = el('figure', 'pl-poster')
  const canvas = el('div', 'pl-poster__canvas')
  canvas.style.aspectRatio = `${POSTER_WIDTH} / ${POSTER_HEIGHT}`
  const image = el('img', 'pl-poster__image')
  image.src = withKey(event, `/api/events/${encodeURIComponent(event)}/poster`)
  image.alt = tp('posterImage')
  const svg = document.createElementNS(SVG, 'svg')
  svg.setAttribute('viewBox', `0 0 ${POSTER_WIDTH} ${POSTER_HEIGHT}`)
  svg.setAttribute('aria-hidden', 'true')
  svg.classList.add('pl-poster__arrows')
  const placed = new Map<string, { x: number, y: number }>()
  const notes = el('ul', 'pl-poster__notes')
  for (const note of LANES.flatMap(lane => table.lanes[lane])) {
    if (!note.poster) continue
    placed.set(note.id, { x: note.poster.x + POSTER_NOTE_WIDTH / 2, y: note.poster.y + POSTER_NOTE_HEIGHT / 2 })
    const li = el('li', 'pl-poster__note', note.text)
    li.dataset.color = note.color
    li.style.left = pct(note.poster.x, POSTER_WIDTH)
    li.style.top = pct(note.poster.y, POSTER_HEIGHT)
    li.style.width = pct(POSTER_NOTE_WIDTH, POSTER_WIDTH)
    notes.append(li)
  }
  for (const a of table.poster.arrows) {
    const from = placed.get(a.from)
    const to = a.to.kind === 'note' ? placed.get(a.to.id) : a.to
    if (!from || !to) continue
    const line = document.createElementNS(SVG, 'line')
    for (const [k, v] of [['x1', from.x], ['y1', from.y], ['x2', to.x], ['y2', to.y]] as const) line.setAttribute(k, String(v))
    svg.append(line)
  }
  for (const m of table.poster.markers) {
    const li = el('li', `pl-poster__marker pl-poster__marker--${m.kind}`, `${tp(`marker_${m.kind}`)}: ${m.label}`)
    li.style.left = pct(m.x, POSTER_WIDTH)
    li.style.top = pct(m.y, POSTER_HEIGHT)
    notes.append(li)
  }
  canvas.append(image, svg, notes)
  figure.append(canvas, el('figcaption', 'pl-poster__caption', tp('posterOfTable', { id: table.id.toUpperCase() })))
  return figure
}

function pct (v: number, of: number): string {
  return `${(100 * v / of).toFixed(3)}%`
}
