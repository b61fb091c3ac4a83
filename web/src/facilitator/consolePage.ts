//! The facilitator console, `/e/{event}/facilitator`: every table at a
//! glance with its controls, the same controls for all tables at once, the
//! programme's now/next and the QR codes to print. The overview comes from
//! the console API every few seconds, and sooner whenever the live summary
//! feed reports a change or a control has been sent.
import { fetchEvent, type EventInfo } from '../api'
import { withKey } from '../access'
import { fetchConsole, Refused, sendControl, type ConsoleInfo, type ControlChange } from '../facilitation'
import { tf } from '../i18nFacilitation'
import { languageSwitch } from '../languageSwitch'
import { ProgrammeNow } from '../programmeNow'
import { idleHook, setHook, type WerktafelHook } from '../testHook'
import { participantLinkSection } from './participantLink'
import { qrSheet } from './qrSheet'
import { TableCard } from './tableCard'
import { TableControls } from './tableControls'
import { startViewControl } from './startViewControl'

/** How often the overview is fetched when nothing else prompts it. */
const POLL_MS = 3000
/** Live changes come in bursts; one refresh per this interval is enough. */
const LIVE_MIN_MS = 1000

export class ConsolePage {
  readonly element = document.createElement('main')
  private readonly programme: ProgrammeNow
  private readonly notice = document.createElement('p')
  private readonly grid = document.createElement('div')
  private readonly cards = new Map<string, TableCard>()
  private readonly hook: WerktafelHook
  private readonly abort = new AbortController()
  private info: ConsoleInfo | null = null
  private clockOffset = 0
  private pollTimer: number | undefined
  private liveTimer: number | undefined
  private lastFetch = 0
  private readonly ticker: number
  private live: EventSource | null = null

  constructor (readonly event: string) {
    this.element.className = 'console'
    this.programme = new ProgrammeNow(event, [])
    const bar = document.createElement('header')
    bar.className = 'console__bar'
    const brand = document.createElement('span')
    brand.className = 'brand'
    brand.textContent = 'Werktafel'
    const h1 = document.createElement('h1')
    h1.textContent = tf('consoleTitle')
    const spacer = document.createElement('span')
    spacer.className = 'spacer'
    bar.append(brand, h1, this.programme.element, spacer, languageSwitch())
    this.notice.className = 'console__notice'
    this.notice.setAttribute('role', 'status')
    this.notice.setAttribute('aria-live', 'polite')

    const all = document.createElement('section')
    all.className = 'console-all'
    const allHead = document.createElement('h2')
    allHead.textContent = tf('allTables')
    const allHint = document.createElement('p')
    allHint.className = 'console-all__hint'
    allHint.textContent = tf('allTablesHint')
    all.append(allHead, allHint, new TableControls(null, (c, what) => this.send('all', c, what)).element)

    this.grid.className = 'console__tables'
    this.element.append(bar, this.notice, all, this.grid)
    document.title = `${tf('consoleTitle')} — Werktafel`

    this.hook = { ...idleHook('facilitator', event), console: () => this.info }
    setHook(this.hook)
    this.ticker = window.setInterval(() => { for (const c of this.cards.values()) c.tick(this.clockOffset) }, 1000)
    void this.start()
  }

  destroy (): void {
    this.abort.abort()
    window.clearTimeout(this.pollTimer)
    window.clearTimeout(this.liveTimer)
    window.clearInterval(this.ticker)
    this.live?.close()
    this.programme.destroy()
    this.element.remove()
  }

  private async start (): Promise<void> {
    void fetchEvent(this.event, this.abort.signal).then(info => this.withEvent(info), () => {})
    await this.refresh()
    this.live = new EventSource(withKey(this.event, `/api/events/${encodeURIComponent(this.event)}/summary/live`))
    // The feed sends named events (a whole `summary`, then `delta`s), which
    // `onmessage` never sees: listen for each by name.
    for (const name of ['summary', 'delta']) this.live.addEventListener(name, () => this.soon())
  }

  private withEvent (info: EventInfo): void {
    this.programme.set(info.programme)
    let sheet = qrSheet(this.event, info.tables)
    // After a renewal the codes carry the new link: redrawn, not cached.
    const link = participantLinkSection(this.event, renewed => {
      const next = qrSheet(this.event, info.tables, renewed.generation)
      sheet.replaceWith(next)
      sheet = next
      this.say(tf('done', { what: tf('linkRenew') }), 'ok')
    })
    this.element.append(link, sheet)
    if (info.hasMarket) {
      const control = startViewControl(this.event, info, (m, ok) => this.say(m, ok ? 'ok' : 'error'))
      link.before(control)
    }
  }

  /** A refresh now, or as soon as the last one is LIVE_MIN_MS old. */
  private soon (): void {
    if (this.liveTimer !== undefined) return
    const wait = Math.max(0, this.lastFetch + LIVE_MIN_MS - Date.now())
    this.liveTimer = window.setTimeout(() => { this.liveTimer = undefined; void this.refresh() }, wait)
  }

  private async refresh (): Promise<void> {
    window.clearTimeout(this.pollTimer)
    this.lastFetch = Date.now()
    try {
      const info = await fetchConsole(this.event, this.abort.signal)
      this.clockOffset = info.now - Date.now()
      this.render(info)
    } catch (err) {
      if (this.abort.signal.aborted) return
      if (err instanceof Refused && err.status === 403) {
        this.hook.page = 'error'
        this.notice.textContent = tf('consoleNeedKey')
        this.notice.dataset.kind = 'error'
        return
      }
    }
    this.pollTimer = window.setTimeout(() => void this.refresh(), POLL_MS)
  }

  private render (info: ConsoleInfo): void {
    this.info = info
    for (const table of info.tables) {
      let card = this.cards.get(table.id)
      if (!card) {
        card = new TableCard(table.id, this.event, (c, what) => this.send([table.id], c, what))
        this.cards.set(table.id, card)
        this.grid.append(card.element)
      }
      card.update(table, this.clockOffset)
    }
    this.hook.ready = true
  }

  private async send (tables: string[] | 'all', change: ControlChange, what: string): Promise<void> {
    try {
      const changed = await sendControl(this.event, tables, change)
      // Show the new state at once; the refresh below fills in counts.
      if (this.info) {
        for (const { id, control } of changed) {
          const t = this.info.tables.find(x => x.id === id)
          if (t) t.control = control
        }
        this.render(this.info)
      }
      const where = tables === 'all' ? tf('allTables') : tables.map(t => t.toUpperCase()).join(', ')
      this.say(tf('done', { what: `${what} (${where})` }), 'ok')
    } catch (err) {
      this.say(tf('failed', { message: err instanceof Error ? err.message : String(err) }), 'error')
    }
    void this.refresh()
  }

  private say (text: string, kind: 'ok' | 'error'): void {
    this.notice.textContent = text
    this.notice.dataset.kind = kind
  }
}
