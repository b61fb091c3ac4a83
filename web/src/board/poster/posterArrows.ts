//! The poster's arrows as an SVG overlay over the image (lines are not
//! focusable themselves), each with a small remove button at its middle so
//! it can be taken away by keyboard too. An arrow whose start note, or end
//! note, is not on the poster is not drawn.
import { tp } from '../../i18nPoster'
import type { PosterArrow } from '../../poster'
import { POSTER_HEIGHT, POSTER_WIDTH } from '../../schema'

const SVG = 'http://www.w3.org/2000/svg'

export class PosterArrows {
  readonly element = document.createElementNS(SVG, 'svg')
  private readonly lines = document.createElementNS(SVG, 'g')
  private readonly buttons = document.createElement('div')
  private editable = true

  constructor (private readonly remove: (id: string) => void) {
    const svg = this.element
    svg.classList.add('poster__arrows')
    svg.setAttribute('viewBox', `0 0 ${POSTER_WIDTH} ${POSTER_HEIGHT}`)
    svg.setAttribute('width', String(POSTER_WIDTH))
    svg.setAttribute('height', String(POSTER_HEIGHT))
    svg.setAttribute('aria-hidden', 'true')
    svg.innerHTML = '<defs><marker id="poster-arrowhead" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#c92a2a"/></marker></defs>'
    svg.append(this.lines)
    this.buttons.className = 'poster__arrow-buttons'
  }

  /** The layer of remove buttons; the view puts it above the notes. */
  get controls (): HTMLElement { return this.buttons }

  setEditable (on: boolean): void {
    this.editable = on
    this.buttons.hidden = !on
  }

  draw (arrows: PosterArrow[], centres: Map<string, { x: number, y: number }>): void {
    this.lines.replaceChildren()
    const keep = new Set<string>()
    for (const a of arrows) {
      const from = centres.get(a.from)
      const to = a.to.kind === 'note' ? centres.get(a.to.id) : a.to
      if (!from || !to) continue
      keep.add(a.id)
      const line = document.createElementNS(SVG, 'line')
      line.setAttribute('x1', String(from.x))
      line.setAttribute('y1', String(from.y))
      line.setAttribute('x2', String(to.x))
      line.setAttribute('y2', String(to.y))
      line.setAttribute('marker-end', 'url(#poster-arrowhead)')
      line.dataset.arrowId = a.id
      this.lines.append(line)
      let b = this.buttons.querySelector<HTMLButtonElement>(`[data-arrow-id="${a.id}"]`)
      if (!b) {
        b = document.createElement('button')
        b.type = 'button'
        b.className = 'poster-arrow-remove'
        b.dataset.arrowId = a.id
        b.textContent = '✕'
        b.setAttribute('aria-label', tp('arrowRemove'))
        const id = a.id
        b.addEventListener('click', () => { if (this.editable) this.remove(id) })
        this.buttons.append(b)
      }
      b.style.transform = `translate(${(from.x + to.x) / 2}px, ${(from.y + to.y) / 2}px)`
    }
    for (const b of [...this.buttons.querySelectorAll<HTMLElement>('[data-arrow-id]')]) {
      if (!keep.has(b.dataset.arrowId ?? '')) b.remove()
    }
  }
}
