//! Arrows between notes or groups, drawn as SVG over the lanes, each with an
//! optional label (a live Y.Text) and a delete button; and the arrow tool:
//! click where an arrow starts, then where it points.
import type { GroupsDoc } from '../groups'
import { tf } from '../i18nFacilitation'
import { TextBinding } from './textBinding'

const SVG = 'http://www.w3.org/2000/svg'

interface Drawn { line: SVGLineElement; label: HTMLElement; binding: TextBinding }

export class ConnectorLayer {
  readonly svg = document.createElementNS(SVG, 'svg')
  readonly labels = document.createElement('div')
  readonly toolButton = document.createElement('button')
  private readonly drawn = new Map<string, Drawn>()
  private picking: 'off' | 'from' | { from: string } = 'off'
  private editable = true

  constructor (
    private readonly surface: HTMLElement,
    private readonly doc: GroupsDoc,
    private readonly origin: unknown,
    private readonly create: (from: string, to: string) => void,
    private readonly remove: (id: string) => void,
    private readonly say: (message: string) => void,
  ) {
    this.svg.classList.add('connectors')
    this.svg.setAttribute('aria-hidden', 'true')
    this.svg.innerHTML = '<defs><marker id="arrowhead" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#343a40"/></marker></defs>'
    this.labels.className = 'connector-labels'
    this.toolButton.type = 'button'
    this.toolButton.className = 'tool-button'
    this.toolButton.textContent = `↗ ${tf('arrowTool')}`
    this.toolButton.setAttribute('aria-pressed', 'false')
    this.toolButton.addEventListener('click', () => this.setPicking(this.picking === 'off' ? 'from' : 'off'))
    surface.addEventListener('click', e => this.onClick(e), true)
  }

  /** Whether the arrow tool is waiting for clicks. */
  get active (): boolean { return this.picking !== 'off' }

  cancel (): void { this.setPicking('off') }

  setEditable (editable: boolean): void {
    this.editable = editable
    this.toolButton.disabled = !editable
    if (!editable) this.setPicking('off')
    for (const d of this.drawn.values()) {
      d.label.querySelector('textarea')!.readOnly = !editable
      d.label.querySelector('button')!.hidden = !editable
    }
  }

  /** Draws every connector whose two ends are on the board; call after layout. */
  render (): void {
    const box = this.surface.getBoundingClientRect()
    const seen = new Set<string>()
    for (const c of this.doc.allConnectors()) {
      const a = this.endElement(c.from)
      const b = this.endElement(c.to)
      if (!a || !b || a === b) continue
      seen.add(c.id)
      const d = this.drawn.get(c.id) ?? this.draw(c.id)
      if (!d) continue
      const [p, q] = ends(a.getBoundingClientRect(), b.getBoundingClientRect())
      const [x1, y1, x2, y2] = [p.x - box.left, p.y - box.top, q.x - box.left, q.y - box.top]
      d.line.setAttribute('x1', String(x1))
      d.line.setAttribute('y1', String(y1))
      d.line.setAttribute('x2', String(x2))
      d.line.setAttribute('y2', String(y2))
      d.label.style.left = `${(x1 + x2) / 2}px`
      d.label.style.top = `${(y1 + y2) / 2}px`
    }
    for (const [id, d] of this.drawn) {
      if (seen.has(id)) continue
      d.binding.destroy()
      d.line.remove()
      d.label.remove()
      this.drawn.delete(id)
    }
    this.svg.setAttribute('width', String(this.surface.scrollWidth))
    this.svg.setAttribute('height', String(this.surface.scrollHeight))
  }

  private draw (id: string): Drawn | undefined {
    const text = this.doc.label(id)
    if (!text) return undefined
    const line = document.createElementNS(SVG, 'line')
    line.classList.add('connector')
    line.setAttribute('marker-end', 'url(#arrowhead)')
    line.dataset.connectorId = id
    this.svg.append(line)
    const label = document.createElement('div')
    label.className = 'connector-label'
    label.dataset.connectorId = id
    const input = document.createElement('textarea')
    input.rows = 1
    input.placeholder = '…'
    input.setAttribute('aria-label', tf('arrowLabel'))
    input.readOnly = !this.editable
    const binding = new TextBinding(input, text, this.origin, () => {})
    const del = document.createElement('button')
    del.type = 'button'
    del.className = 'note__tool'
    del.textContent = '✕'
    del.title = tf('arrowDelete')
    del.setAttribute('aria-label', tf('arrowDelete'))
    del.hidden = !this.editable
    del.addEventListener('click', () => this.remove(id))
    label.append(input, del)
    this.labels.append(label)
    const d = { line, label, binding }
    this.drawn.set(id, d)
    return d
  }

  private endElement (id: string): HTMLElement | null {
    const esc = CSS.escape(id)
    return this.surface.querySelector<HTMLElement>(`[data-note-id="${esc}"]:not(.note--draft), [data-group-id="${esc}"]`)
  }

  private setPicking (state: ConnectorLayer['picking']): void {
    this.picking = state
    this.toolButton.setAttribute('aria-pressed', String(state !== 'off'))
    this.surface.classList.toggle('lanes--picking', state !== 'off')
    this.surface.querySelector('.connector-source')?.classList.remove('connector-source')
    if (state === 'from') this.say(tf('arrowPickFrom'))
    if (typeof state === 'object') {
      this.endElement(state.from)?.classList.add('connector-source')
      this.say(tf('arrowPickTo'))
    }
  }

  private onClick (e: MouseEvent): void {
    if (this.picking === 'off') return
    const hit = (e.target as HTMLElement).closest<HTMLElement>('[data-note-id]:not(.note--draft), [data-group-id]')
    if (!hit) return
    e.preventDefault()
    e.stopPropagation()
    const id = hit.dataset.noteId ?? hit.dataset.groupId ?? ''
    if (this.picking === 'from') {
      this.setPicking({ from: id })
    } else if (this.picking.from !== id) {
      this.create(this.picking.from, id)
      this.setPicking('off')
      this.say(tf('arrowMade'))
    }
  }
}

type Point = { x: number; y: number }

/** Where the line between two boxes leaves the first and enters the second. */
function ends (a: DOMRect, b: DOMRect): [Point, Point] {
  const ca = { x: a.left + a.width / 2, y: a.top + a.height / 2 }
  const cb = { x: b.left + b.width / 2, y: b.top + b.height / 2 }
  return [edge(a, ca, cb), edge(b, cb, ca)]
}

function edge (r: DOMRect, from: Point, to: Point): Point {
  const dx = to.x - from.x
  const dy = to.y - from.y
  if (dx === 0 && dy === 0) return from
  const sx = dx === 0 ? Infinity : (r.width / 2) / Math.abs(dx)
  const sy = dy === 0 ? Infinity : (r.height / 2) / Math.abs(dy)
  const s = Math.min(sx, sy, 1)
  return { x: from.x + dx * s, y: from.y + dy * s }
}
