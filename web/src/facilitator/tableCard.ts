//! One table in the facilitator console: who is there, how many notes and
//! unrevealed drafts, the phase, time left and lock, with its controls.
import type { ConsoleTable } from '../facilitation'
import { formatRemaining, tf } from '../i18nFacilitation'
import { TableControls, type Send } from './tableControls'

export class TableCard {
  readonly element = document.createElement('section')
  private readonly stats = document.createElement('p')
  private readonly voters = document.createElement('p')
  private readonly phase = document.createElement('span')
  private readonly timer = document.createElement('span')
  private readonly lock = document.createElement('span')
  private readonly controls: TableControls
  private table: ConsoleTable | null = null

  constructor (readonly id: string, event: string, send: Send) {
    this.element.className = `console-table table-card--${id}`
    this.element.dataset.table = id
    const head = document.createElement('header')
    head.className = 'console-table__head'
    const badge = document.createElement('span')
    badge.className = 'table-card__id'
    badge.textContent = id.toUpperCase()
    const title = document.createElement('h2')
    title.className = 'console-table__title'
    const open = document.createElement('a')
    open.className = 'console-table__open'
    open.href = `/e/${encodeURIComponent(event)}/t/${encodeURIComponent(id)}`
    open.target = '_blank'
    open.textContent = `${tf('openBoard')} ↗`
    head.append(badge, title, open)
    this.phase.className = 'console-table__phase'
    this.timer.className = 'console-table__timer'
    this.lock.className = 'console-table__lock'
    const state = document.createElement('p')
    state.className = 'console-table__state'
    state.append(this.phase, this.timer, this.lock)
    this.stats.className = 'console-table__stats'
    this.voters.className = 'console-table__voters'
    this.voters.title = tf('votersHint')
    this.controls = new TableControls(id, send)
    this.element.append(head, state, this.stats, this.voters, this.controls.element)
  }

  update (table: ConsoleTable, clockOffset: number): void {
    this.table = table
    const title = this.element.querySelector('h2')
    if (title) title.textContent = table.title
    const c = table.control
    this.phase.textContent = tf(`phase_${c.phase}`)
    this.phase.dataset.phase = c.phase
    this.lock.textContent = c.locked ? tf('lockedBadge') : tf('openBadge')
    this.lock.dataset.locked = String(c.locked)
    const parts = [tf('people', { n: table.people }), tf('notesN', { n: table.notes }), tf('draftsN', { n: table.drafts })]
    if (c.privateWriting) parts.push(tf('privateIsOn'))
    this.stats.textContent = parts.join(' · ')
    // Who is behind the votes: signed identities, against those at the table now.
    this.voters.textContent = [tf('identitiesN', { n: table.identities }), tf('votersN', { n: table.voters, present: table.votersPresent })].join(' · ')
    this.voters.dataset.voters = String(table.voters)
    this.voters.dataset.votersPresent = String(table.votersPresent)
    this.controls.update({ control: c, drafts: table.drafts, view: table.view })
    this.tick(clockOffset)
  }

  /** Redraws the countdown; `clockOffset` is server time minus this device's. */
  tick (clockOffset: number): void {
    const ends = this.table?.control.timerEndsAt ?? null
    if (ends === null) {
      this.timer.textContent = tf('noTimer')
      delete this.timer.dataset.running
      return
    }
    const left = ends - (Date.now() + clockOffset)
    this.timer.textContent = left > 0 ? tf('timeLeft', { time: formatRemaining(left) }) : tf('timeUp')
    this.timer.dataset.running = String(left > 0)
  }
}
