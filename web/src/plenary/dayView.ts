//! The plenary's day view for the closing feedback: the market (top tips per stand), the
//! lecture's pinned insights, the "rode lijnen" across tables, stands and the lecture, and
//! the closing feedback's next steps; live from the same summary feed as the tables.
import { td } from '../i18nDay'
import { ClosingSteps } from './closingSteps'
import { el, reconcile, setText } from './el'
import type { BoardItem, Origin, StandSummary, Summary, Theme } from './summary'

export class DayView {
  readonly element = el('div', 'pl-day')
  private readonly stands = el('ol', 'pl-day__stands')
  private readonly marketEmpty = el('p', 'pl-day__empty', td('marketEmpty'))
  private readonly pinned = el('ol', 'pl-day__pinned')
  private readonly pinnedEmpty = el('p', 'pl-day__empty', td('lectureNothingPinned'))
  private readonly themes = el('ul', 'pl-day__themes')
  private readonly themesEmpty = el('p', 'pl-day__empty', td('rodeLijnenEmpty'))
  readonly steps: ClosingSteps

  constructor (event: string, editable: boolean) {
    this.steps = new ClosingSteps(event, editable)
    this.element.append(
      panel('pl-day__market', td('market'), this.marketEmpty, this.stands),
      panel('pl-day__lecture', td('lecture'), this.pinnedEmpty, this.pinned),
      panel('pl-day__lines', td('rodeLijnen'), this.themesEmpty, this.themes),
      this.steps.element,
    )
  }

  update (summary: Summary): void {
    this.marketEmpty.hidden = summary.market.some(s => s.tipCount > 0)
    reconcile(this.stands, summary.market, s => String(s.team), () => el('li', 'pl-stand'), fillStand)
    this.pinnedEmpty.hidden = summary.lecture.pinned.length > 0
    reconcile(this.pinned, summary.lecture.pinned, i => i.id, () => el('li', 'pl-insight'), fillInsight)
    this.themesEmpty.hidden = summary.themes.length > 0
    reconcile(this.themes, summary.themes.slice(0, 12), th => th.term, () => el('li', 'pl-line'), fillTheme)
    this.steps.update(summary)
  }
}

function panel (className: string, title: string, ...children: HTMLElement[]): HTMLElement {
  const section = el('section', `pl-panel ${className}`)
  section.append(el('h2', 'pl-panel__title', title), ...children)
  return section
}

function fillStand (li: HTMLElement, stand: StandSummary): void {
  const head = el('p', 'pl-stand__head')
  head.append(el('span', 'pl-stand__ot', `OT ${stand.team}`), el('span', 'pl-stand__name', stand.name), el('span', 'pl-stand__count', stand.tipCount === 1 ? td('marketTip') : td('marketTips', { n: stand.tipCount })))
  const tips = el('ul', 'pl-stand__tips')
  tips.append(...stand.topTips.map(tip => el('li', '', tip.text)))
  li.replaceChildren(head, tips)
}

function fillInsight (li: HTMLElement, item: BoardItem): void {
  li.dataset.kind = item.kind
  if (li.childElementCount === 0) li.append(el('span', 'pl-insight__text'), el('span', 'pl-insight__plus'))
  setText(li.firstElementChild as HTMLElement, item.text)
  setText(li.lastElementChild as HTMLElement, item.plusOnes > 0 ? td('plusOnes', { n: item.plusOnes }) : '')
}

function fillTheme (li: HTMLElement, theme: Theme): void {
  const badges = theme.origins.map(origin => el('span', `pl-origin pl-origin--${origin.kind} ${origin.kind === 'table' ? `pl-badge pl-badge--${origin.id}` : ''}`, short(origin)))
  li.replaceChildren(el('span', 'pl-line__term', theme.term), ...badges)
  li.setAttribute('aria-label', `${theme.term}: ${theme.origins.map(long).join(', ')}`)
}

function short (origin: Origin): string {
  return origin.kind === 'table' ? origin.id.toUpperCase() : origin.kind === 'stand' ? `OT${origin.team}` : td('lectureTitle')
}

function long (origin: Origin): string {
  return origin.kind === 'table' ? td('sourceTable', { id: origin.id.toUpperCase() }) : origin.kind === 'stand' ? td('sourceStand', { n: origin.team }) : td('lecture')
}
