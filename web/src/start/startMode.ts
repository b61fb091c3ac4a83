//! Whether the start page shows the market or the work tables: the link's
//! `?view=`, else the facilitator's choice, else the programme clock (the
//! market while it runs and before it, the tables after it).
import type { EventInfo, ProgrammeItem } from '../api'
import { nowAndNext } from '../programmeNow'

export type StartMode = 'markt' | 'werktafels'

export function startMode (info: EventInfo, search: string, at: Date): StartMode {
  if (!info.hasMarket) return 'werktafels'
  const asked = new URLSearchParams(search).get('view')
  if (asked === 'markt' || asked === 'werktafels') return asked
  if (info.startView === 'markt' || info.startView === 'werktafels') return info.startView
  return byClock(info.programme, at)
}

export function byClock (programme: ProgrammeItem[], at: Date): StartMode {
  const sorted = [...programme].sort((a, b) => a.start.localeCompare(b.start))
  const { now, next } = nowAndNext(sorted, at)
  if (now?.kind === 'markt') return 'markt'
  if (!now && next?.kind === 'markt') return 'markt'
  return 'werktafels'
}
