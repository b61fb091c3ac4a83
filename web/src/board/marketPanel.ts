//! The board's "Uit de markt" side panel: the market tips and questions left
//! at the stands of the teams linked to this table (`meta.teams`), live from
//! the stands' own documents ([`StandFeed`]), each one a button away from
//! being a note on the table that keeps its link to the stand (`provenance`).
//! Beside the lanes on wide screens, below them on a phone; it folds shut.
import { el } from '../market/dom'
import { tm } from '../market/i18nMarket'
import { StandFeed, type StandTip } from '../market/standFeed'
import type { Provenance } from '../schema'

export type PanelTip = StandTip

export class MarketPanel {
  readonly element = el('aside', 'market-panel')
  private readonly list = el('ul', 'market-panel__tips')
  private readonly feed: StandFeed
  private following = ''

  constructor (
    event: string,
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
    details.addEventListener('toggle', () => { this.element.dataset.open = String(details.open) })
    this.element.dataset.open = 'true'
    this.element.append(details)
    this.element.hidden = true
    this.feed = new StandFeed(event, () => this.render())
    this.teamsChanged()
  }

  tips (): PanelTip[] {
    return this.feed.tips()
  }

  /** Open stand connections (one per linked team). */
  get connections (): number {
    return this.feed.connections
  }

  destroy (): void {
    this.feed.destroy()
    this.element.remove()
  }

  /** The table's meta changed: follow the stands of the teams linked now. */
  teamsChanged (): void {
    const teams = [...new Set(this.teams())].sort((a, b) => a - b)
    if (teams.join() === this.following) return
    this.following = teams.join()
    this.feed.follow(teams)
  }

  /** Redraws (a stand's tips or the table's notes changed: a tip may be on it now). */
  render (): void {
    this.element.hidden = this.following === ''
    const tips = this.feed.tips()
    if (tips.length === 0) {
      this.list.replaceChildren(el('li', 'market-panel__empty', tm('noMarketTips')))
      return
    }
    const brought = new Set(this.onTable().map(p => `${p.stand}/${p.tip}`))
    // A live redraw must not take the focus away from a keyboard user's button.
    const focused = (document.activeElement as HTMLElement | null)?.closest<HTMLElement>('.market-panel [data-tip]')?.dataset.tip
    this.list.replaceChildren(...tips.map(tip => this.item(tip, brought.has(`${tip.room}/${tip.id}`))))
    if (focused) this.list.querySelector<HTMLElement>(`[data-tip="${CSS.escape(focused)}"] button`)?.focus()
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
