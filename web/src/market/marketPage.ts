//! The market overview (`/e/{event}/markt`): every stand with its counts
//! (tips, questions, useful marks, materials), the freshest tips across the
//! market, and a QR code per stand for its physical table. Refreshed every
//! few seconds from `GET /api/events/{event}/market`.
import { qrUrl } from '../facilitation'
import { languageSwitch } from '../languageSwitch'
import { ProgrammeNow } from '../programmeNow'
import { idleHook, setHook, type WerktafelHook } from '../testHook'
import { el } from './dom'
import { tm } from './i18nMarket'
import { fetchMarket, type FreshTip, type MarketInfo, type StandInfo } from './marketApi'

/** How often the counts are refreshed. */
const REFRESH_MS = 5_000

export class MarketPage {
  readonly element = el('main', 'market')
  private readonly title = el('h1', 'market__title', tm('market'))
  private readonly stands = el('ol', 'market__stands')
  private readonly fresh = el('ol', 'market__fresh')
  private readonly hook: WerktafelHook
  private readonly programme: ProgrammeNow
  private readonly abort = new AbortController()
  private timer: number | undefined
  private last: MarketInfo | null = null

  constructor (readonly event: string, private readonly navigate: (path: string) => void) {
    const bar = el('header', 'stand__bar')
    const back = el('a', 'link-button', `← ${tm('toTables')}`)
    back.href = `/e/${encodeURIComponent(event)}?view=werktafels`
    this.programme = new ProgrammeNow(event)
    bar.append(el('span', 'brand', 'Werktafel'), back, this.programme.element, el('span', 'spacer'), languageSwitch())
    const freshSection = el('section', 'market__fresh-section')
    freshSection.setAttribute('aria-labelledby', 'fresh-title')
    const h2 = el('h2', '', tm('freshTips'))
    h2.id = 'fresh-title'
    freshSection.append(h2, this.fresh)
    const standsTitle = el('h2', 'visually-hidden', tm('allStands'))
    this.element.append(bar, this.title, standsTitle, this.stands, freshSection)
    this.hook = idleHook('market', event)
    this.hook.market = () => this.last
    setHook(this.hook)
    void this.refresh()
  }

  destroy (): void {
    window.clearTimeout(this.timer)
    this.abort.abort()
    this.programme.destroy()
    this.element.remove()
  }

  private async refresh (): Promise<void> {
    try {
      const info = await fetchMarket(this.event, this.abort.signal)
      this.last = info
      this.render(info)
      this.hook.ready = true
    } catch {
      if (this.abort.signal.aborted) return
    }
    this.timer = window.setTimeout(() => void this.refresh(), REFRESH_MS)
  }

  private render (info: MarketInfo): void {
    this.title.textContent = info.title
    document.title = `${info.title} — Werktafel`
    this.stands.replaceChildren(...info.stands.map(s => this.card(s)))
    this.fresh.replaceChildren(...info.fresh.map(t => this.freshItem(t)))
  }

  private card (stand: StandInfo): HTMLLIElement {
    const li = el('li', 'market-card')
    li.dataset.stand = stand.room
    const n = stand.team.number
    const head = el('div', 'market-card__head')
    head.append(el('span', 'market-card__number', `OT ${n}`), el('h3', 'market-card__name', stand.team.name))
    const counts = el('p', 'market-card__counts', tm('counts', stand.counts))
    counts.dataset.counts = JSON.stringify(stand.counts)
    const status = el('p', 'market-card__status', stand.status.slice(0, 200))
    const link = el('a', 'primary market-card__open', tm('openStand', { n }))
    link.href = `/e/${encodeURIComponent(this.event)}/markt/${n}`
    link.addEventListener('click', e => {
      if (e.metaKey || e.ctrlKey || e.shiftKey) return
      e.preventDefault()
      this.navigate(link.pathname)
    })
    const qr = el('img', 'market-card__qr')
    qr.src = qrUrl(this.event, stand.room)
    qr.alt = tm('qrStand', { n })
    qr.width = 96
    qr.height = 96
    qr.addEventListener('error', () => qr.remove())
    li.append(head, counts, status, link, qr)
    return li
  }

  private freshItem (tip: FreshTip): HTMLLIElement {
    const li = el('li', `tip tip--${tip.kind}`)
    li.dataset.tip = tip.id
    li.append(
      el('span', 'tip__kind', `OT ${tip.team} · ${tip.kind === 'vraag' ? tm('kindVraag') : tm('kindTip')}`),
      el('p', 'tip__text', tip.text),
      el('span', 'tip__by', `${tm('by', { author: tip.author })} · ${tm('usefulCount', { n: tip.useful })}`),
    )
    return li
  }
}
