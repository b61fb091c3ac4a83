//! The plenary screen (/e/{event}/plenair): all tables merged into one live summary for
//! the projector, with a spotlight for discussion and the organiser's downloads; and its
//! day view for the closing feedback (/e/{event}/terugkoppeling): market, lecture, rode
//! lijnen and the next steps, which the facilitator edits there.
import './plenary.css'
import { fetchEvent, NotFound } from '../api'
import { t } from '../i18n'
import { idleHook, setHook, type WerktafelHook } from '../testHook'
import { el, reconcile } from './el'
import { exportMenu } from './exportMenu'
import { LaneChart } from './laneChart'
import { NextSteps } from './nextSteps'
import { PlenaryHeader } from './plenaryHeader'
import { Spotlight } from './spotlight'
import type { SpotlightTarget } from './spotlightTarget'
import type { Summary } from './summary'
import { SummaryFeed, type FeedStatus } from './summaryFeed'
import { TableTile } from './tableTile'
import { Themes } from './themes'
import { DayView } from './dayView'
import { td } from '../i18nDay'

/** How long to wait before asking again for an event that failed to load (not a 404). */
const EVENT_RETRY_MS = 5_000

export class PlenaryPage {
  readonly element = el('main', 'plenary')
  private readonly header: PlenaryHeader
  private readonly tiles = el('ol', 'pl-tiles')
  private readonly tileById = new Map<string, TableTile>()
  private readonly chart = new LaneChart()
  private readonly steps: NextSteps
  private readonly themes = new Themes()
  private readonly spotlight: Spotlight
  private readonly feed: SummaryFeed
  private readonly hook: WerktafelHook
  private readonly abort = new AbortController()
  private timer: number | undefined
  private summary: Summary | null = null
  private day: DayView | null = null
  private readonly dayHost = el('div', 'pl-day-host')
  private readonly strip = el('div', 'pl-strip')
  private readonly viewButtons = new Map<boolean, HTMLButtonElement>()
  private readonly open = (target: SpotlightTarget, opener: HTMLElement): void => {
    if (this.summary) this.spotlight.open(target, opener, this.summary)
  }

  private readonly onResize = (): void => { if (this.summary) this.render(this.summary) }

  constructor (readonly event: string, day = false) {
    const extra = el('div', 'pl-header__extra')
    extra.append(this.viewSwitch(), exportMenu(event))
    this.header = new PlenaryHeader(extra)
    this.steps = new NextSteps(this.open)
    this.spotlight = new Spotlight(event)
    this.tiles.setAttribute('aria-label', t('tables'))
    this.strip.append(this.chart.element, this.steps.element, this.themes.element)
    this.dayHost.className = 'pl-day-host'
    this.element.append(this.header.element, this.tiles, this.strip, this.dayHost, this.spotlight.element)
    this.setView(day)
    // How many notes fit depends on the screen; a projector switched mid-session re-fits.
    window.addEventListener('resize', this.onResize)
    document.documentElement.classList.add('plenary-screen')
    document.title = `${t('plenary')} — Werktafel`

    this.hook = { ...idleHook('plenary', event), status: 'connecting', summary: null, live: 'connecting' }
    setHook(this.hook)
    this.feed = new SummaryFeed(event, s => this.render(s), s => this.setStatus(s))
    void this.loadEvent()
  }

  destroy (): void {
    this.feed.close()
    this.header.destroy()
    window.removeEventListener('resize', this.onResize)
    window.clearTimeout(this.timer)
    this.abort.abort()
    document.documentElement.classList.remove('plenary-screen')
    this.element.remove()
  }

  /** The title and programme for the header; the summary has no programme. */
  private async loadEvent (): Promise<void> {
    try {
      const info = await fetchEvent(this.event, this.abort.signal)
      this.header.setEvent(info.title, info.programme)
      this.day = new DayView(this.event, info.role === 'facilitator')
      this.dayHost.replaceChildren(this.day.element)
      if (this.summary) this.day.update(this.summary)
      document.title = `${info.title} — ${t('plenary')}`
    } catch (err) {
      if (this.abort.signal.aborted) return
      if (err instanceof NotFound) {
        this.feed.close()
        this.hook.page = 'error'
        this.element.replaceChildren(el('p', 'not-found', t('eventNotFound')))
        return
      }
      this.timer = window.setTimeout(() => void this.loadEvent(), EVENT_RETRY_MS)
    }
  }

  private render (summary: Summary): void {
    this.summary = summary
    this.header.setTotals(summary.totals)
    reconcile(this.tiles, summary.tables, table => table.id, table => this.tile(table.id).element, (_, table) => this.tile(table.id).update(table))
    this.chart.update(summary.tables)
    this.steps.update(summary.nextSteps)
    this.themes.update(summary.themes)
    this.spotlight.update(summary)
    this.day?.update(summary)
    this.hook.summary = summary
    this.hook.ready = true
    this.hook.synced = true
  }

  /** "Tafels" / "Dagoverzicht": which of the two views the screen shows. */
  private viewSwitch (): HTMLElement {
    const box = el('div', 'pl-viewswitch')
    box.setAttribute('role', 'group')
    box.setAttribute('aria-label', td('viewSwitch'))
    for (const [day, label] of [[false, td('tablesView')], [true, td('dayView')]] as const) {
      const b = el('button', '', label)
      b.type = 'button'
      b.addEventListener('click', () => this.setView(day))
      this.viewButtons.set(day, b)
      box.append(b)
    }
    return box
  }

  private setView (day: boolean): void {
    this.tiles.hidden = day
    this.strip.hidden = day
    this.dayHost.hidden = !day
    for (const [isDay, b] of this.viewButtons) b.setAttribute('aria-pressed', String(isDay === day))
    const path = `/e/${encodeURIComponent(this.event)}/${day ? 'terugkoppeling' : 'plenair'}`
    if (location.pathname !== path) history.replaceState(history.state, '', path + location.search)
    if (this.summary && !day) this.render(this.summary)
  }

  private tile (id: string): TableTile {
    let tile = this.tileById.get(id)
    if (!tile) {
      tile = new TableTile(id, this.open)
      this.tileById.set(id, tile)
    }
    return tile
  }

  private setStatus (status: FeedStatus): void {
    this.header.setStatus(status)
    this.hook.live = status
    this.hook.status = status === 'live' ? 'connected' : 'connecting'
    if (status !== 'live') this.hook.synced = false
  }
}
