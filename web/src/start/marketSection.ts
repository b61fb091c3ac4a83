//! The start page's market: one card per stand (team, focus) linking to the
//! stand's page, and the way to the overview.
import type { EventInfo } from '../api'
import { el } from '../market/dom'
import { tm } from '../market/i18nMarket'

export function marketSection (info: EventInfo, navigate: (path: string) => void): HTMLElement {
  const section = el('section', 'start-market')
  section.setAttribute('aria-labelledby', 'start-market-title')
  const h2 = el('h2', 'tables__title', info.marketInfo?.title ?? tm('market'))
  h2.id = 'start-market-title'
  const overview = link(`/e/${encodeURIComponent(info.slug)}/markt`, tm('marketOverview'), 'primary', navigate)
  const list = el('ol', 'start-market__stands')
  const teams = new Map(info.teams.map(t => [t.number, t]))
  for (const n of info.marketInfo?.stands ?? []) {
    const team = teams.get(n)
    const li = el('li', 'market-card')
    li.dataset.stand = `markt-ot${n}`
    const head = el('div', 'market-card__head')
    head.append(el('span', 'market-card__number', `OT ${n}`), el('h3', 'market-card__name', team?.name ?? ''))
    const focus = el('ul', 'market-card__focus')
    for (const f of team?.focus ?? []) focus.append(el('li', '', f))
    li.append(head, link(`/e/${encodeURIComponent(info.slug)}/markt/${n}`, tm('openStand', { n }), 'primary', navigate), focus)
    list.append(li)
  }
  section.append(h2, overview, list)
  return section
}

/** A link that navigates in place (a modified click opens a tab as usual). */
export function link (path: string, text: string, className: string, navigate: (path: string) => void): HTMLAnchorElement {
  const a = el('a', className, text)
  a.href = path
  a.addEventListener('click', e => {
    if (e.metaKey || e.ctrlKey || e.shiftKey) return
    e.preventDefault()
    navigate(a.pathname + a.search)
  })
  return a
}
