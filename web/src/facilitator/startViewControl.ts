//! The console's switch for the start page: by the programme clock (the
//! market in the morning, the tables after), or fixed on the market or on
//! the tables. Sent to `POST /api/events/{event}/start-view`.
import type { EventInfo } from '../api'
import { el, field } from '../market/dom'
import { tm } from '../market/i18nMarket'
import { setStartView, type StartView } from '../market/marketApi'

const VIEWS: StartView[] = ['auto', 'markt', 'werktafels']

export function startViewControl (event: string, info: EventInfo, say: (message: string, ok: boolean) => void): HTMLElement {
  const section = el('section', 'console-start-view')
  section.setAttribute('aria-labelledby', 'start-view-title')
  const h2 = el('h2', '', tm('startView'))
  h2.id = 'start-view-title'
  const select = el('select')
  for (const v of VIEWS) {
    const o = el('option', '', tm(`startView_${v}`))
    o.value = v
    select.append(o)
  }
  select.value = info.startView ?? 'auto'
  select.addEventListener('change', () => {
    const view = select.value as StartView
    setStartView(event, view).then(
      () => say(`${tm('startView')}: ${tm(`startView_${view}`)}`, true),
      (err: Error) => say(err.message, false),
    )
  })
  section.append(h2, field(tm('startView'), select, 'start-view'))
  section.querySelector('label')?.classList.add('visually-hidden')
  return section
}
