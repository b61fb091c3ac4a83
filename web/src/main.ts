//! Entry point and client-side router: /e/{event} is the start page,
//! /e/{event}/t/{table} a table board (asking for a name first if needed),
//! /e/{event}/plenair the plenary screen (/e/{event}/terugkoppeling opens its day view),
//! /e/{event}/zaal the lecture board, /e/{event}/markt the market overview and
//! /e/{event}/markt/{n} team n's stand.
import './styles/app.css'
import { identity } from './identity'
import { t } from './i18n'
import { Board } from './board/board'
import { StartPage } from './start/startPage'
import { namePrompt } from './start/namePrompt'
import { PlenaryPage } from './plenary/plenaryPage'
import { idleHook, setHook } from './testHook'
import { fetchEvent, NotFound } from './api'
import { adoptKeyFromUrl } from './access'
import { ConsolePage } from './facilitator/consolePage'
import { LecturePage } from './lecture/lecturePage'
import { MarketPage } from './market/marketPage'
import { StandPage } from './market/standPage'

type Route =
  | { kind: 'start'; event: string }
  | { kind: 'board'; event: string; table: string }
  | { kind: 'facilitator'; event: string }
  | { kind: 'plenary'; event: string; day: boolean }
  | { kind: 'lecture'; event: string }
  | { kind: 'market'; event: string }
  | { kind: 'stand'; event: string; stand: number }
  | { kind: 'unknown' }

interface View { element: HTMLElement; destroy (): void }

const app = document.getElementById('app') as HTMLElement
let current: View | null = null

export function parseRoute (path: string): Route {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent)
  if (parts[0] !== 'e' || !parts[1]) return { kind: 'unknown' }
  if (parts.length === 2) return { kind: 'start', event: parts[1] }
  if (parts.length === 3 && parts[2] === 'facilitator') return { kind: 'facilitator', event: parts[1] }
  if (parts.length === 3 && parts[2] === 'plenair') return { kind: 'plenary', event: parts[1], day: false }
  if (parts.length === 3 && parts[2] === 'terugkoppeling') return { kind: 'plenary', event: parts[1], day: true }
  if (parts.length === 3 && parts[2] === 'zaal') return { kind: 'lecture', event: parts[1] }
  if (parts.length === 3 && parts[2] === 'markt') return { kind: 'market', event: parts[1] }
  if (parts.length === 4 && parts[2] === 'markt' && /^[1-9][0-9]{0,8}$/.test(parts[3])) {
    return { kind: 'stand', event: parts[1], stand: Number(parts[3]) }
  }
  if (parts.length === 4 && parts[2] === 't' && /^[a-z0-9-]{1,32}$/.test(parts[3])) {
    return { kind: 'board', event: parts[1], table: parts[3] }
  }
  return { kind: 'unknown' }
}

function navigate (path: string): void {
  history.pushState(null, '', path)
  render()
}

function render (): void {
  current?.destroy()
  current = null
  const route = parseRoute(location.pathname)
  if (route.kind !== 'unknown') adoptKeyFromUrl(route.event)
  if (route.kind === 'start') {
    current = new StartPage(route.event, navigate)
  } else if (route.kind === 'board') {
    const me = identity(route.event)
    current = me ? new Board(route.event, route.table, me) : nameView(route.event)
    void checkTable(route.event, route.table, current)
  } else if (route.kind === 'facilitator') {
    current = new ConsolePage(route.event)
  } else if (route.kind === 'plenary') {
    current = new PlenaryPage(route.event, route.day)
  } else if (route.kind === 'lecture') {
    const me = identity(route.event)
    current = me ? new LecturePage(route.event, me) : nameView(route.event)
  } else if (route.kind === 'market') {
    current = new MarketPage(route.event, navigate)
  } else if (route.kind === 'stand') {
    const me = identity(route.event)
    current = me ? new StandPage(route.event, route.stand, me) : nameView(route.event)
    void checkStand(route.event, route.stand, current)
  } else {
    current = notFound()
  }
  app.replaceChildren(current.element)
}

/**
 * The board starts at once (it works offline from IndexedDB); this check runs
 * beside it and replaces it only when the server says the table does not exist.
 */
async function checkTable (event: string, table: string, view: View): Promise<void> {
  try {
    const info = await fetchEvent(event)
    if (info.tables.some(x => x.id === table)) return
  } catch (err) {
    if (!(err instanceof NotFound)) return
  }
  if (current !== view) return
  view.destroy()
  current = notFound()
  app.replaceChildren(current.element)
}

/** As `checkTable`, for a market stand the event may not have. */
async function checkStand (event: string, stand: number, view: View): Promise<void> {
  try {
    const info = await fetchEvent(event)
    if (info.marketInfo?.stands.includes(stand)) return
  } catch (err) {
    if (!(err instanceof NotFound)) return
  }
  if (current !== view) return
  view.destroy()
  current = notFound()
  app.replaceChildren(current.element)
}

function notFound (): View {
  const main = document.createElement('main')
  const h1 = document.createElement('h1')
  h1.className = 'not-found'
  h1.textContent = t('eventNotFound')
  main.append(h1)
  setHook(idleHook('error', ''))
  return { element: main, destroy: () => main.remove() }
}

function nameView (event: string): View {
  const wrap = document.createElement('main')
  wrap.className = 'name-page'
  const form = namePrompt(event, () => render())
  const box = document.createElement('div')
  const h1 = document.createElement('h1')
  h1.className = 'name-page__title'
  h1.textContent = t('nameWelcome')
  box.append(h1, form)
  wrap.append(box)
  setHook(idleHook('name', event))
  queueMicrotask(() => form.querySelector('input')?.focus())
  return { element: wrap, destroy: () => wrap.remove() }
}

window.addEventListener('popstate', render)
window.addEventListener('werktafel:language', render)
render()
