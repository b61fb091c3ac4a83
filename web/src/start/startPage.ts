//! The event's start page: title, venue, programme (and what is on now),
//! the QR code that brings a phone here, and the four tables with their
//! question, cluster, cases, linked teams and how many people sit there.
import { fetchEvent, NoAccess, NotFound, type EventInfo, type EventTable } from '../api'
import { qrUrl } from '../facilitation'
import { tf } from '../i18nFacilitation'
import { ProgrammeNow } from '../programmeNow'
import { savedName } from '../identity'
import { t } from '../i18n'
import { languageSwitch } from '../languageSwitch'
import { idleHook, setHook, type WerktafelHook } from '../testHook'
import { namePrompt } from './namePrompt'
import { marketSection, link } from './marketSection'
import { startMode, type StartMode } from './startMode'
import { tm } from '../market/i18nMarket'

/** How often the table counts are refreshed (a cheap GET). */
const REFRESH_MS = 10_000

export class StartPage {
  readonly element = document.createElement('main')
  private readonly tables = document.createElement('ol')
  private readonly intro = document.createElement('header')
  private readonly hook: WerktafelHook
  private timer: number | undefined
  private abort = new AbortController()
  private readonly programmeNow: ProgrammeNow
  private readonly market = document.createElement('div')
  private mode: StartMode | null = null

  constructor (readonly event: string, private readonly navigate: (path: string) => void) {
    this.element.className = 'start'
    this.tables.className = 'tables'
    this.intro.className = 'start__intro'
    this.intro.textContent = t('loading')
    this.element.append(this.intro, this.market, this.tables)
    this.programmeNow = new ProgrammeNow(event, [])
    this.hook = idleHook('start', event)
    setHook(this.hook)
    void this.refresh(true)
  }

  destroy (): void {
    window.clearTimeout(this.timer)
    this.abort.abort()
    this.programmeNow.destroy()
    this.element.remove()
  }

  private async refresh (first: boolean): Promise<void> {
    try {
      const info = await fetchEvent(this.event, this.abort.signal)
      if (first) this.renderIntro(info)
      this.renderMode(info)
      this.renderTables(info)
      this.hook.ready = true
    } catch (err) {
      if (this.abort.signal.aborted) return
      if (err instanceof NotFound) {
        this.hook.page = 'error'
        this.intro.textContent = t('eventNotFound')
        return
      }
      if (err instanceof NoAccess) {
        this.hook.page = 'error'
        this.intro.textContent = t('needLink')
        return
      }
      if (first) this.intro.textContent = t('loadFailed')
    }
    this.timer = window.setTimeout(() => void this.refresh(!this.hook.ready), REFRESH_MS)
  }

  private renderIntro (info: EventInfo): void {
    document.title = `${info.title} — Werktafel`
    const bar = el('div', 'start__bar')
    this.programmeNow.set(info.programme)
    bar.append(el('span', 'brand', 'Werktafel'), this.programmeNow.element, el('span', 'spacer'), languageSwitch())
    const h1 = el('h1', '', info.title)
    const venue = el('p', 'start__venue', info.venue)
    const description = el('p', 'start__description', info.description)
    const you = el('div', 'start__you')
    const renderYou = (editing = false): void => {
      const name = savedName()
      if (name && !editing) {
        const change = el('button', 'link-button', t('nameChange'))
        change.type = 'button'
        change.addEventListener('click', () => {
          renderYou(true)
          you.querySelector('input')?.focus()
        })
        you.replaceChildren(el('p', 'start__name', t('youAre', { name })), change)
      } else {
        you.replaceChildren(namePrompt(this.event, () => renderYou(), true))
      }
    }
    renderYou()
    const programme = el('details', 'programme')
    programme.append(el('summary', '', t('programme')))
    const list = el('ul', 'programme__list')
    for (const p of info.programme) {
      const item = el('li', `programme__item programme__item--${p.kind}`)
      item.append(el('span', 'programme__time', `${p.start}–${p.end}`), this.programmeTitle(p.kind, p.title))
      list.append(item)
    }
    // The day's long introduction sits with the programme, so the tables stay in view.
    programme.append(list, description)
    // The code of this page's participant link, so people join from a phone in seconds.
    // Only a key that may hand the participant link on gets it (the plenary's
    // read-only key gets 403), so the code shows once it has loaded, not before.
    const qr = el('figure', 'start__qr')
    qr.hidden = true
    const img = el('img', '')
    img.addEventListener('load', () => { qr.hidden = false })
    img.addEventListener('error', () => qr.remove())
    img.src = qrUrl(this.event)
    img.alt = tf('qrJoin')
    img.width = 132
    img.height = 132
    qr.append(img, el('figcaption', '', tf('qrJoin')))
    const heading = el('div', 'start__heading')
    const text = el('div', 'start__heading-text')
    text.append(h1, venue, you)
    heading.append(text, qr)
    this.intro.replaceChildren(bar, heading, programme, el('h2', 'tables__title', t('tables')))
  }

  /** A programme item's title; the lecture and the closing feedback link to their boards. */
  private programmeTitle (kind: string, title: string): HTMLElement {
    const page = kind === 'lezing' ? 'zaal' : kind === 'terugkoppeling' ? 'terugkoppeling' : ''
    if (!page) return el('span', 'programme__title', title)
    const a = el('a', 'programme__title')
    a.href = `/e/${encodeURIComponent(this.event)}/${page}`
    a.textContent = title
    a.addEventListener('click', e => { e.preventDefault(); this.navigate(a.pathname) })
    return a
  }

  /** The market in the morning, the tables after it (see `startMode`). */
  private renderMode (info: EventInfo): void {
    const mode = startMode(info, location.search, new Date())
    this.hook.startMode = mode
    if (mode === this.mode) return
    this.mode = mode
    const tablesTitle = this.intro.querySelector('.tables__title')
    const other = mode === 'markt'
      ? link(`/e/${encodeURIComponent(this.event)}?view=werktafels`, tm('toTables'), 'link-button start__switch', this.navigate)
      : link(`/e/${encodeURIComponent(this.event)}?view=markt`, tm('toMarket'), 'link-button start__switch', this.navigate)
    this.market.replaceChildren(...(info.hasMarket ? [other] : []), ...(mode === 'markt' ? [marketSection(info, this.navigate)] : []))
    this.tables.hidden = mode === 'markt'
    if (tablesTitle instanceof HTMLElement) tablesTitle.hidden = mode === 'markt'
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
    const about = el('div', 'table-card__about')
    about.append(el('p', 'table-card__cluster', `${t('cluster')} ${table.cluster.id} · ${table.cluster.title}`))
    const cases = el('ul', 'table-card__cases')
    cases.setAttribute('aria-label', t('cases'))
    for (const c of table.cases) {
      const item = el('li', '', c.name)
      item.append(' ', el('span', 'table-card__city', c.city))
      cases.append(item)
    }
    const linked = el('ul', 'table-card__teams')
    linked.setAttribute('aria-label', t('teams'))
    for (const n of table.teams) {
      const team = teams.get(n)
      const item = el('li', 'team')
      item.append(el('span', 'team__number', `OT ${n}`), el('span', 'team__name', team?.name ?? `${t('team')} ${n}`))
      if (team?.focus.length) item.append(el('span', 'team__focus', team.focus.join(' · ')))
      linked.append(item)
    }
    about.append(el('h4', '', t('cases')), cases, el('h4', '', t('teams')), linked)
    const join = el('a', 'table-card__join primary', t('joinTable', { id: table.id.toUpperCase() }))
    join.href = `/e/${encodeURIComponent(this.event)}/t/${encodeURIComponent(table.id)}`
    join.addEventListener('click', e => {
      if (e.metaKey || e.ctrlKey || e.shiftKey) return
      e.preventDefault()
      this.navigate(join.pathname)
    })
    li.append(head, counts, question, join, about)
    return li
  }
}

function el<K extends keyof HTMLElementTagNameMap> (tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  if (className) e.className = className
  if (text !== undefined) e.textContent = text
  return e
}
