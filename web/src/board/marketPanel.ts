//! The board's "Uit de markt" panel: the market tips and questions left at
//! the stands of the teams linked to this table (`meta.teams`), refreshed
//! from the market overview, each one a button away from being a note on
//! the table that keeps its link to the stand (`provenance`).
import { el } from '../market/dom'
import { tm } from '../market/i18nMarket'
import { fetchMarket, standRoom, type Tip } from '../market/marketApi'
import type { Provenance } from '../schema'

/** How often the tips are fetched again. */
const REFRESH_MS = 10_000

export type PanelTip = Tip & { room: string; team: number }

export class MarketPanel {
  readonly element = el('aside', 'market-panel')
  private readonly list = el('ul', 'market-panel__tips')
  private readonly abort = new AbortController()
  private timer: number | undefined
  private current: PanelTip[] = []

  constructor (
    private readonly event: string,
    /** The team numbers linked to the table, from its meta. */
    private readonly teams: () => number[],
    /** The provenance of every note on the table now. */
    private readonly onTable: () => Provenance[],
    private readonly bring: (tip: PanelTip) => void,
  ) {
    this.element.setAttribute('aria-labelledby', 'market-panel-title')
    const details = el('details', 'market-panel__details')
    details.open = true
    const summary = el('summary', 'market-panel__title', tm('fromMarket'))
    summary.id = 'market-panel-title'
    details.append(summary, el('p', 'market-panel__hint', tm('fromMarketHint')), this.list)
    this.element.append(details)
    this.element.hidden = true
    void this.refresh()
  }

  tips (): PanelTip[] {
    return this.current
  }

  destroy (): void {
    window.clearTimeout(this.timer)
    this.abort.abort()
    this.element.remove()
  }

  /** Redraws (the table's notes changed: a tip may be on it now). */
  render (): void {
    const teams = this.teams()
    this.element.hidden = teams.length === 0
    if (this.current.length === 0) {
      this.list.replaceChildren(el('li', 'market-panel__empty', tm('noMarketTips')))
      return
    }
    const brought = new Set(this.onTable().map(p => `${p.stand}/${p.tip}`))
    this.list.replaceChildren(...this.current.map(tip => this.item(tip, brought.has(`${tip.room}/${tip.id}`))))
  }

  private async refresh (): Promise<void> {
    const teams = this.teams()
    if (teams.length > 0) {
      try {
        const market = await fetchMarket(this.event, this.abort.signal)
        const rooms = new Set(teams.map(standRoom))
        this.current = market.stands
          .filter(s => rooms.has(s.room))
          .flatMap(s => s.tips.map(t => ({ ...t, room: s.room, team: s.team.number })))
          .sort((a, b) => b.useful - a.useful || b.createdAt - a.createdAt)
      } catch {
        if (this.abort.signal.aborted) return
      }
    }
    this.render()
    this.timer = window.setTimeout(() => void this.refresh(), REFRESH_MS)
  }

  private item (tip: PanelTip, brought: boolean): HTMLLIElement {
    const li = el('li', `tip tip--${tip.kind}`)
    li.dataset.tip = tip.id
    li.append(
      el('span', 'tip__kind', `OT ${tip.team} · ${tip.kind === 'vraag' ? tm('kindVraag') : tm('kindTip')}`),
      el('p', 'tip__text', tip.text),
      el('span', 'tip__by', `${tm('by', { author: tip.author })} · ${tm('usefulCount', { n: tip.useful })}`),
    )
    const button = el('button', 'tool-button market-panel__bring', brought ? tm('broughtIn') : tm('bringToTable'))
    button.type = 'button'
    button.disabled = brought
    button.setAttribute('aria-label', `${brought ? tm('broughtIn') : tm('bringToTable')}: ${tm('bringTip', { text: tip.text.slice(0, 60) })}`)
    button.addEventListener('click', () => this.bring(tip))
    li.append(button)
    return li
  }
}
