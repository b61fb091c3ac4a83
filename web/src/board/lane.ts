//! One lane of the board: its heading, its add button and the notes placed in it.
import { LANE_WIDTH, NOTE_WIDTH, type Lane } from '../schema'
import { t } from '../i18n'

/** Anything placed at a board position in a lane: a note or a group. */
export interface Placeable {
  readonly element: HTMLElement
  /** Board position and width, in board units. */
  readonly x: number
  readonly y: number
  readonly width: number
  /** Puts the element at `top` CSS px (its board y, pushed below anything it would cover). */
  place (scale: number, order: number, top: number): void
}

/** Free space kept below the lowest note so there is room to drop another. */
const LANE_TAIL = 140
/** Gap between notes stacked by "add note", in board units. */
const GAP = 12

export class LaneView {
  readonly element = document.createElement('section')
  readonly body = document.createElement('div')
  private readonly count = document.createElement('span')
  private readonly heading = document.createElement('h2')
  private readonly add = document.createElement('button')
  private readonly empty = document.createElement('p')
  /** Each item's height when it was last placed: what `grew` compares with. */
  private readonly heights = new WeakMap<HTMLElement, number>()

  constructor (readonly lane: Lane, onAdd: (lane: Lane) => void) {
    const el = this.element
    el.className = `lane lane--${lane}`
    el.dataset.lane = lane
    const headingId = `lane-title-${lane}`
    el.setAttribute('aria-labelledby', headingId)
    const header = document.createElement('header')
    header.className = 'lane__header'
    this.heading.id = headingId
    this.heading.className = 'lane__title'
    this.count.className = 'lane__count'
    this.add.type = 'button'
    this.add.className = 'lane__add'
    this.add.addEventListener('click', () => onAdd(lane))
    header.append(this.heading, this.count, this.add)
    this.body.className = 'lane__body'
    this.empty.className = 'lane__empty'
    el.append(header, this.body)
    this.relabel()
  }

  relabel (): void {
    this.heading.textContent = t(`lane_${this.lane}`)
    this.add.textContent = '+'
    this.add.setAttribute('aria-label', t('addNoteTo', { lane: t(`lane_${this.lane}`) }))
    this.add.title = t('addNoteTo', { lane: t(`lane_${this.lane}`) })
    this.empty.textContent = t('emptyLane')
  }

  /** CSS px per board unit at the lane's current width. */
  scale (): number {
    const w = this.body.clientWidth
    return w > 0 ? w / LANE_WIDTH : 1
  }

  /**
   * Positions the lane's notes and groups and orders them in reading order
   * (y, then x): the DOM order gives keyboard users the same order the eye
   * sees, and on narrow screens, where notes flow as a list, the CSS order
   * does the same. An item that would cover one above it (a group grew, two
   * people dropped notes on one spot) is shown just below it instead; the
   * document keeps its position, so every screen shows the same picture.
   */
  layout (items: Placeable[], count: number): void {
    const scale = this.scale()
    const sorted = [...items].sort((a, b) => a.y - b.y || a.x - b.x)
    // One read pass for the heights, then the writes: one layout, not one per note.
    const heights = sorted.map(n => n.element.offsetHeight)
    const placed: Array<{ x: number; w: number; top: number; bottom: number }> = []
    sorted.forEach((n, i) => {
      let top = n.y * scale
      for (let moved = true; moved;) {
        moved = false
        for (const p of placed) {
          const sideBySide = n.x + n.width <= p.x || p.x + p.w <= n.x
          if (!sideBySide && top < p.bottom && p.top < top + heights[i]) {
            top = p.bottom + GAP * scale
            moved = true
          }
        }
      }
      placed.push({ x: n.x, w: n.width, top, bottom: top + heights[i] })
      this.heights.set(n.element, heights[i])
      n.place(scale, i, top)
    })
    const bottom = Math.max(0, ...placed.map(p => p.bottom))
    this.reorder(sorted)
    this.body.style.setProperty('--min-height', `${Math.ceil(bottom + LANE_TAIL)}px`)
    this.count.textContent = String(count)
    if (items.length === 0) this.body.append(this.empty)
    else this.empty.remove()
  }

  /**
   * Whether `item` is not as tall as when this lane last placed it (or was
   * never placed here): then what is below it must move.
   */
  grew (item: Placeable): boolean {
    return this.heights.get(item.element) !== item.element.offsetHeight
  }

  /** Turns the add button off while the table does not accept writes. */
  setEditable (editable: boolean): void {
    this.add.disabled = !editable
  }

  /** A free spot for a new note: the lower end of the emptier column, as shown. */
  freeSpot (items: Placeable[]): { x: number; y: number } {
    const scale = this.scale()
    const columns = [GAP, LANE_WIDTH - NOTE_WIDTH - GAP]
    const bottoms = columns.map(x => {
      let b = GAP
      for (const n of items) {
        const overlaps = n.x < x + NOTE_WIDTH && n.x + n.width > x
        if (overlaps) b = Math.max(b, (n.element.offsetTop + n.element.offsetHeight) / scale + GAP)
      }
      return b
    })
    const i = bottoms[0] <= bottoms[1] ? 0 : 1
    return { x: columns[i], y: Math.round(bottoms[i]) }
  }

  private reorder (sorted: Placeable[]): void {
    const active = document.activeElement
    let prev: Element | null = null
    for (const n of sorted) {
      const el = n.element
      const wanted: ChildNode | null = prev ? prev.nextSibling : this.body.firstChild
      // Moving the element that holds the focus would blur it mid-typing;
      // leave it where it is and let the others flow around it.
      if (el !== wanted && !el.contains(active)) this.body.insertBefore(el, wanted)
      prev = el
    }
  }
}
