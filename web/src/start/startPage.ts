//! The event's start page: title, venue, programme and the four tables with
//! their question, cluster, cases, linked teams and how many people sit there.
import { fetchEvent, NotFound, type EventInfo, type EventTable } from '../api'
import { savedName } from '../identity'
import { t } from '../i18n'
import { languageSwitch } from '../languageSwitch'
import { idleHook, setHook, type WerktafelHook } from '../testHook'
import { namePrompt } from './namePrompt'

/** How often the table counts are refreshed (a cheap GET). */
const REFRESH_MS = 10_000

export class StartPage {
  readonly element = document.createElement('div')
  private readonly tables = document.createElement('ol')
  private readonly intro = document.createElement('header')
  private readonly hook: WerktafelHook
  private timer: number | undefined
  private abort = new AbortController()

  constructor (readonly event: string, private readonly navigate: (path: string) => void) {
    this.element.className = 'start'
    this.tables.className = 'tables'
    this.intro.className = 'start__intro'
    this.intro.textContent = t('loading')
    this.element.append(this.intro, this.tables)
    this.hook = idleHook('start', event)
    setHook(this.hook)
    void this.refresh(true)
  }

  destroy (): void {
    window.clearTimeout(this.timer)
    this.abort.abort()
    this.element.remove()
  }

  private async refresh (first: boolean): Promise<void> {
    try {
      const info = await fetchEvent(this.event, this.abort.signal)
      if (first) this.renderIntro(info)
      this.renderTables(info)
      this.hook.ready = true
    } catch (err) {
      if (this.abort.signal.aborted) return
      if (err instanceof NotFound) {
        this.hook.page = 'error'
        this.intro.textContent = t('eventNotFound')
        return
      }
      if (first) this.intro.textContent = t('loadFailed')
    }
    this.timer = window.setTimeout(() => void this.refresh(!this.hook.ready), REFRESH_MS)
  }

  private renderIntro (info: EventInfo): void {
    document.title = `${info.title} — Werktafel`
    const bar = el('div', 'start__bar')
    bar.append(el('span', 'brand', 'Werktafel'), el('span', 'spacer'), languageSwitch())
    const h1 = el('h1', '', info.title)
    const venue = el('p', 'start__venue', info.venue)
    const description = el('p', 'start__description', info.description)
    const you = el('div', 'start__you')
    const renderYou = (): void => {
      you.replaceChildren(namePrompt(() => renderYou(), true))
      const name = savedName()
      if (name) you.prepend(el('p', 'start__name', t('youAre', { name })))
    }
    renderYou()
    const programme = el('details', 'programme')
    programme.append(el('summary', '', t('programme')))
    const list = el('ul', 'programme__list')
    for (const p of info.programme) {
      const item = el('li', `programme__item programme__item--${p.kind}`)
      item.append(el('span', 'programme__time', `${p.start}–${p.end}`), el('span', 'programme__title', p.title))
      list.append(item)
    }
    programme.append(list)
    this.intro.replaceChildren(bar, h1, venue, description, you, programme, el('h2', 'tables__title', t('tables')))
  }

  private renderTables (info: EventInfo): void {
    const teams = new Map(info.teams.map(team => [team.number, team]))
    this.tables.replaceChildren(...info.tables.map(table => this.card(table, teams)))
  }

  private card (table: EventTable, teams: Map<number, EventInfo['teams'][number]>): HTMLLIElement {
    const li = el('li', `table-card table-card--${table.id}`)
    li.dataset.table = table.id
    const head = el('div', 'table-card__head')
    head.append(el('span', 'table-card__id', table.id.toUpperCase()), el('h3', 'table-card__title', table.title))
    const people = el('span', 'table-card__people', t('peopleAtTable', { n: table.people }))
    people.dataset.people = String(table.people)
    const counts = el('p', 'table-card__counts')
    counts.append(people, ' · ', el('span', '', t('notesCount', { n: table.noteCount })))
    const question = el('p', 'table-card__question', table.question)
    const more = el('details', 'table-card__more')
    more.append(el('summary', '', `${t('cluster')} ${table.cluster.id} · ${t('cases')} (${table.cases.length}) · ${t('teams')}`))
    more.append(el('p', 'table-card__cluster', `${t('cluster')} ${table.cluster.id}: ${table.cluster.title}`))
    const cases = el('ul', 'table-card__cases')
    for (const c of table.cases) cases.append(el('li', '', `${c.name} — ${c.city}`))
    const linked = el('ul', 'table-card__teams')
    for (const n of table.teams) {
      const team = teams.get(n)
      const item = el('li', '', `${t('team')} ${n}${team ? `: ${team.name}` : ''}`)
      if (team?.focus.length) item.title = team.focus.join('\n')
      linked.append(item)
    }
    more.append(el('h4', '', t('cases')), cases, el('h4', '', t('teams')), linked)
    const join = el('a', 'table-card__join primary', t('joinTable', { id: table.id.toUpperCase() }))
    join.href = `/e/${encodeURIComponent(this.event)}/t/${encodeURIComponent(table.id)}`
    join.addEventListener('click', e => {
      if (e.metaKey || e.ctrlKey || e.shiftKey) return
      e.preventDefault()
      this.navigate(join.pathname)
    })
    li.append(head, counts, question, more, join)
    return li
  }
}

function el<K extends keyof HTMLElementTagNameMap> (tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  if (className) e.className = className
  if (text !== undefined) e.textContent = text
  return e
}
