//! The small "Nu … · Straks …" line every page shows in its header: which
//! item of the day's programme is on now and which comes next, by the
//! device's clock, refreshed every half minute.
import { fetchEvent, type ProgrammeItem } from './api'
import { tf } from './i18nFacilitation'

const TICK_MS = 30_000

export class ProgrammeNow {
  readonly element = document.createElement('p')
  private programme: ProgrammeItem[] = []
  private readonly timer: number

  /** Give `programme` when the page has it already; otherwise it is fetched. */
  constructor (event: string, programme?: ProgrammeItem[]) {
    this.element.className = 'programme-now'
    this.element.setAttribute('aria-live', 'off')
    this.element.hidden = true
    if (programme) this.set(programme)
    else fetchEvent(event).then(info => this.set(info.programme), () => {})
    this.timer = window.setInterval(() => this.render(), TICK_MS)
  }

  set (programme: ProgrammeItem[]): void {
    this.programme = [...programme].sort((a, b) => a.start.localeCompare(b.start))
    this.render()
  }

  destroy (): void {
    window.clearInterval(this.timer)
    this.element.remove()
  }

  private render (): void {
    const { now, next } = nowAndNext(this.programme, new Date())
    this.element.hidden = this.programme.length === 0
    const parts: HTMLElement[] = []
    if (now) parts.push(item('now', tf('now'), now, `–${now.end}`))
    if (next) parts.push(item('next', tf('next'), next, ''))
    if (!now && !next) parts.push(span('programme-now__over', tf('dayOver')))
    this.element.replaceChildren(...parts)
  }
}

/** The item running at `at` (start ≤ time < end) and the first one after it. */
export function nowAndNext (programme: ProgrammeItem[], at: Date): { now: ProgrammeItem | null; next: ProgrammeItem | null } {
  const hhmm = `${String(at.getHours()).padStart(2, '0')}:${String(at.getMinutes()).padStart(2, '0')}`
  const now = programme.find(p => p.start <= hhmm && hhmm < p.end) ?? null
  const next = programme.find(p => p.start > hhmm && p !== now) ?? null
  return { now, next }
}

function item (kind: string, label: string, p: ProgrammeItem, end: string): HTMLElement {
  const s = span(`programme-now__item programme-now__item--${kind}`, '')
  s.append(span('programme-now__label', label), ` ${p.start}${end} ${p.title}`)
  return s
}

function span (className: string, text: string): HTMLSpanElement {
  const s = document.createElement('span')
  s.className = className
  s.textContent = text
  return s
}
