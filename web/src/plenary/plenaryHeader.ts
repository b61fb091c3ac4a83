//! The plenary's top bar: event title, a clock, what is on now and next, the totals
//! and whether the feed is live.
import type { ProgrammeItem } from '../api'
import { t } from '../i18n'
import { languageSwitch } from '../languageSwitch'
import { el, setText } from './el'
import type { FeedStatus } from './summaryFeed'
import type { Totals } from './summary'

export class PlenaryHeader {
  readonly element = el('header', 'pl-header')
  private readonly title = el('h1', 'pl-header__title')
  private readonly clock = el('time', 'pl-header__clock')
  private readonly now = el('p', 'pl-header__now')
  private readonly totals = el('p', 'pl-header__totals')
  private readonly status = el('p', 'pl-status')
  private programme: ProgrammeItem[] = []
  private timer: number | undefined

  /** `menu` (the organiser's downloads) sits by the language switch, out of the audience's way. */
  constructor (menu: HTMLElement) {
    const left = el('div', 'pl-header__main')
    left.append(this.title, this.now)
    const tools = el('div', 'pl-header__tools')
    this.status.setAttribute('role', 'status')
    tools.append(this.clock, this.status, menu, languageSwitch())
    const right = el('div', 'pl-header__side')
    right.append(tools, this.totals)
    this.element.append(left, right)
    this.setStatus('connecting')
    this.tick()
  }

  destroy (): void {
    window.clearTimeout(this.timer)
  }

  setEvent (title: string, programme: ProgrammeItem[]): void {
    setText(this.title, `${title} — ${t('plenary')}`)
    this.programme = programme
    this.renderNow(new Date())
  }

  setTotals (totals: Totals): void {
    setText(this.totals, [
      t('plenaryTables', { n: totals.tables }),
      t('plenaryPeople', { n: totals.participants }),
      t('notesCount', { n: totals.notes }),
    ].join(' · '))
  }

  setStatus (status: FeedStatus): void {
    this.status.dataset.status = status
    setText(this.status, status === 'live' ? t('plenaryLive') : status === 'connecting' ? t('status_connecting') : t('plenaryReconnecting'))
  }

  /** Redraws the clock on each minute boundary. */
  private tick (): void {
    const date = new Date()
    const hhmm = hhMm(date)
    setText(this.clock, hhmm)
    this.clock.dateTime = hhmm
    this.renderNow(date)
    this.timer = window.setTimeout(() => this.tick(), 60_000 - (date.getSeconds() * 1000 + date.getMilliseconds()) + 50)
  }

  private renderNow (date: Date): void {
    const { now, next } = onNowAndNext(this.programme, hhMm(date))
    const parts: HTMLElement[] = []
    if (now) parts.push(item(t('plenaryNow'), now))
    if (next) parts.push(item(t('plenaryNext'), next))
    this.now.replaceChildren(...parts)
  }
}

/** The programme item running at `hhmm` (24-hour "HH:MM") and the first one after it. */
export function onNowAndNext (programme: ProgrammeItem[], hhmm: string): { now?: ProgrammeItem; next?: ProgrammeItem } {
  const now = programme.find(p => p.start <= hhmm && hhmm < p.end)
  const next = programme.find(p => p.start > hhmm)
  return { now, next }
}

function item (label: string, p: ProgrammeItem): HTMLElement {
  const span = el('span', 'pl-header__item')
  span.append(el('strong', '', `${label} `), el('span', 'pl-header__time', `${p.start}–${p.end}`), ` ${p.title}`)
  return span
}

function hhMm (date: Date): string {
  return `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`
}
