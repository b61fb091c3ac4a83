//! The strip under the board's header that says what this phase asks of
//! you: the phase, a one-line instruction, the countdown when a timer runs,
//! the lock, votes left, and the tools this phase offers (group, arrow).
//! The poster view has its own wording: it has no columns, groups or votes.
import { serverNow } from '../api'
import { PHASES, type Control } from '../control'
import { formatRemaining, tf } from '../i18nFacilitation'
import { tp } from '../i18nPoster'
import type { BoardView } from '../poster'

export class PhaseBanner {
  readonly element = document.createElement('div')
  /** Buttons the board puts here (new group, arrow tool). */
  readonly tools = document.createElement('div')
  private readonly phase = document.createElement('span')
  private readonly steps = document.createElement('ol')
  private readonly instruction = document.createElement('p')
  private readonly timer = document.createElement('span')
  private readonly votes = document.createElement('span')
  private readonly ticker: number
  private endsAt: number | null = null

  constructor () {
    this.element.className = 'phase-banner'
    this.element.setAttribute('role', 'region')
    this.phase.className = 'phase-banner__phase'
    this.steps.className = 'phase-banner__steps'
    this.steps.setAttribute('aria-hidden', 'true')
    this.steps.replaceChildren(...PHASES.map(p => {
      const li = document.createElement('li')
      li.dataset.phase = p
      return li
    }))
    this.instruction.className = 'phase-banner__text'
    this.instruction.setAttribute('aria-live', 'polite')
    this.timer.className = 'phase-banner__timer'
    this.timer.setAttribute('role', 'timer')
    this.votes.className = 'phase-banner__votes'
    this.tools.className = 'phase-banner__tools'
    const head = document.createElement('div')
    head.className = 'phase-banner__head'
    head.append(this.steps, this.phase, this.timer, this.votes)
    this.element.append(head, this.instruction, this.tools)
    this.ticker = window.setInterval(() => this.tick(), 1000)
  }

  update (c: Control, votesLeft: number, view: BoardView = 'lanes'): void {
    this.element.dataset.phase = c.phase
    this.element.dataset.locked = String(c.locked)
    this.phase.textContent = tf(`phase_${c.phase}`)
    const at = PHASES.indexOf(c.phase)
    this.steps.querySelectorAll('li').forEach((li, i) => {
      li.className = i < at ? 'done' : i === at ? 'current' : ''
    })
    const text = instruction(c, view)
    this.instruction.textContent = c.locked && c.phase !== 'gesloten' ? tf('lockedNotice') : text
    this.votes.hidden = c.phase !== 'stemmen'
    this.votes.textContent = votesLeft === 0 ? tf('noVotesLeft') : votesLeft === 1 ? tf('voteLeft') : tf('votesLeft', { n: votesLeft })
    this.votes.dataset.left = String(votesLeft)
    this.endsAt = c.timerEndsAt
    this.tick()
  }

  destroy (): void {
    window.clearInterval(this.ticker)
  }

  private tick (): void {
    this.timer.hidden = this.endsAt === null
    if (this.endsAt === null) return
    const left = this.endsAt - serverNow()
    this.timer.textContent = left > 0 ? tf('timeLeft', { time: formatRemaining(left) }) : tf('timeUp')
    this.timer.dataset.up = String(left <= 0)
  }
}

/** What this phase asks, in the words of the view: the poster has no columns, votes or groups. */
function instruction (c: Control, view: BoardView): string {
  const privately = c.phase === 'schrijven' && c.privateWriting
  if (view === 'poster' && c.phase !== 'gesloten') return tp(privately ? 'posterDo_schrijven_private' : `posterDo_${c.phase}`)
  return privately ? tf('do_schrijven_private') : tf(`do_${c.phase}`)
}
