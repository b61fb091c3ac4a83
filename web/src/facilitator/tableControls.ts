//! The controls of one table, or of all tables at once: phase stepper,
//! countdown, lock, private writing, reveal, vote budget and visibility.
//! Each button says what it does; closing asks first.
import { PHASES, nextPhase, type Control, type Phase } from '../control'
import type { ControlChange } from '../facilitation'
import { tf } from '../i18nFacilitation'
import { tp } from '../i18nPoster'
import { confirmDialog } from './confirmDialog'

/** What a table's controls show; null for "all tables", whose states differ. */
export interface TableState { control: Control; drafts: number; view?: 'lanes' | 'poster' }

export type Send = (change: ControlChange, what: string) => Promise<void>

export class TableControls {
  readonly element = document.createElement('div')
  private readonly phaseButtons = new Map<Phase, HTMLButtonElement>()
  private readonly advance = button('controls__advance primary big', '')
  private readonly minutes = numberInput('controls__minutes', 1, 240, 10, tf('timerLabel'))
  private readonly timerStop = button('', tf('timerStop'))
  private readonly lock = button('controls__lock big', tf('lock'))
  private readonly unlock = button('controls__unlock big', tf('unlock'))
  private readonly privateOn = button('', tf('privateOn'))
  private readonly privateOff = button('', tf('privateOff'))
  private readonly reveal = button('controls__reveal', tf('reveal'))
  private readonly budget = numberInput('controls__budget', 1, 50, 3, tf('budgetLabel'))
  private readonly visibility = document.createElement('select')
  private readonly viewButtons = new Map<'lanes' | 'poster', HTMLButtonElement>()
  private state: TableState | null = null

  /** `table` is a table id, or null for all tables. */
  constructor (private readonly table: string | null, private readonly send: Send) {
    this.element.className = 'controls'
    const all = table === null

    const phases = row('controls__phases', tf('phaseLabel'))
    const stepper = document.createElement('ol')
    stepper.className = 'stepper'
    PHASES.forEach((phase, i) => {
      const b = button('stepper__step', `${i + 1}. ${tf(`phase_${phase}`)}`)
      b.dataset.phase = phase
      b.title = tf('setPhaseTitle', { phase: tf(`phase_${phase}`) })
      b.addEventListener('click', () => void this.setPhase(phase))
      const li = document.createElement('li')
      li.append(b)
      stepper.append(li)
      this.phaseButtons.set(phase, b)
    })
    phases.append(stepper)
    if (!all) {
      this.advance.addEventListener('click', () => {
        const next = this.state && nextPhase(this.state.control.phase)
        if (next) void this.setPhase(next)
      })
      phases.append(this.advance)
    }

    const timer = row('controls__timer', tf('timerLabel'))
    const start = button('', tf('timerStart'))
    start.addEventListener('click', () => {
      const n = Math.round(Number(this.minutes.value))
      if (n > 0) void this.send({ timerMinutes: n }, `${tf('timerStart')} (${n})`)
    })
    this.timerStop.addEventListener('click', () => void this.send({ timerMinutes: 0 }, tf('timerStop')))
    timer.append(this.minutes, start, this.timerStop)

    const writing = row('controls__writing', '')
    this.lock.addEventListener('click', () => void this.send({ locked: true }, tf('lock')))
    this.unlock.addEventListener('click', () => void this.send({ locked: false }, tf('unlock')))
    this.privateOn.addEventListener('click', () => void this.send({ privateWriting: true }, tf('privateOn')))
    this.privateOff.addEventListener('click', () => void this.send({ privateWriting: false }, tf('privateOff')))
    this.reveal.addEventListener('click', () => void this.send({ reveal: true }, tf('reveal')))
    writing.append(this.lock, this.unlock, this.privateOn, this.privateOff, this.reveal)

    const voting = row('controls__voting', tf('budgetLabel'))
    const setBudget = button('', tf('budgetSet'))
    setBudget.addEventListener('click', () => {
      const n = Math.round(Number(this.budget.value))
      if (n > 0) void this.send({ voteBudget: n }, `${tf('budgetLabel')}: ${n}`)
    })
    const visLabel = document.createElement('label')
    visLabel.className = 'controls__label'
    visLabel.textContent = tf('visibilityLabel')
    for (const v of ['after', 'always'] as const) {
      const o = document.createElement('option')
      o.value = v
      o.textContent = tf(`visibility_${v}`)
      this.visibility.append(o)
    }
    this.visibility.setAttribute('aria-label', tf('visibilityLabel'))
    this.visibility.addEventListener('change', () => {
      const v = this.visibility.value === 'always' ? 'always' : 'after'
      void this.send({ voteVisibility: v }, `${tf('visibilityLabel')}: ${tf(`visibility_${v}`)}`)
    })
    visLabel.append(this.visibility)
    voting.append(this.budget, setBudget, visLabel)

    const view = row('controls__view', tp('viewLabel'))
    for (const v of ['lanes', 'poster'] as const) {
      const label = tp(v === 'lanes' ? 'viewLanes' : 'viewPoster')
      const b = button('controls__view-button', label)
      b.dataset.view = v
      b.setAttribute('aria-pressed', 'false')
      b.addEventListener('click', () => void this.send({ view: v }, `${tp('viewLabel')}: ${label}`))
      this.viewButtons.set(v, b)
      view.append(b)
    }

    this.element.append(phases, timer, writing, voting, view)
    this.update(null)
  }

  /** Shows a table's state: the current phase lit, only the toggle that applies. */
  update (state: TableState | null): void {
    this.state = state
    const c = state?.control
    for (const [phase, b] of this.phaseButtons) {
      const current = c?.phase === phase
      b.classList.toggle('stepper__step--current', current)
      b.setAttribute('aria-pressed', String(current))
    }
    const next = c ? nextPhase(c.phase) : null
    this.advance.hidden = !next
    if (next) this.advance.textContent = tf('toPhase', { phase: tf(`phase_${next}`) })
    for (const [v, b] of this.viewButtons) b.setAttribute('aria-pressed', String(state?.view === v))
    if (this.table === null || !c) return
    this.timerStop.disabled = c.timerEndsAt === null
    this.lock.hidden = c.locked
    this.unlock.hidden = !c.locked
    this.privateOn.hidden = c.privateWriting
    this.privateOff.hidden = !c.privateWriting
    const drafts = state?.drafts ?? 0
    this.reveal.textContent = drafts > 0 ? tf('revealN', { n: drafts }) : tf('reveal')
    this.reveal.disabled = drafts === 0 && !c.privateWriting
    if (document.activeElement !== this.budget) this.budget.value = String(c.voteBudget)
    this.visibility.value = c.voteVisibility
  }

  private async setPhase (phase: Phase): Promise<void> {
    if (phase === 'gesloten') {
      const title = this.table ? tf('closeConfirmTitle', { id: this.table.toUpperCase() }) : tf('closeConfirmAll')
      if (!await confirmDialog(title, tf('closeConfirmText'), tf('closeConfirmYes'))) return
    }
    await this.send({ phase }, `${tf('phaseLabel')}: ${tf(`phase_${phase}`)}`)
  }
}

function button (className: string, text: string): HTMLButtonElement {
  const b = document.createElement('button')
  b.type = 'button'
  if (className) b.className = className
  b.textContent = text
  return b
}

/** A whole-number field from `min` to `max`, named for screen readers by `label`. */
function numberInput (className: string, min: number, max: number, value: number, label: string): HTMLInputElement {
  const input = document.createElement('input')
  input.type = 'number'
  input.min = String(min)
  input.max = String(max)
  input.value = String(value)
  input.className = className
  input.setAttribute('aria-label', label)
  return input
}

function row (className: string, label: string): HTMLDivElement {
  const div = document.createElement('div')
  div.className = `controls__row ${className}`
  if (label) {
    const l = document.createElement('span')
    l.className = 'controls__label'
    l.textContent = label
    div.append(l)
  }
  return div
}
