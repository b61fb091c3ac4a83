//! The merged next steps of all tables, each with its table's letter.
import { t } from '../i18n'
import { el, fitLargest, reconcile, setText } from './el'
import type { OpenSpotlight } from './spotlightTarget'
import type { NextStep } from './summary'

/** How many next steps the panel tries to show (two columns), most first; it keeps the largest that fits. */
export const NEXT_STEPS_SHOWN = [10, 8, 6, 4, 2] as const

export class NextSteps {
  readonly element = el('section', 'pl-panel pl-steps')
  private readonly list = el('ol', 'pl-steps__list')
  private readonly more = el('span', 'pl-steps__more')

  constructor (private readonly spotlight: OpenSpotlight) {
    const title = el('h2', 'pl-panel__title', t('plenaryNextSteps'))
    title.append(this.more)
    this.element.append(title, this.list)
  }

  update (steps: NextStep[]): void {
    fitLargest(this.element, NEXT_STEPS_SHOWN, n => this.render(steps, n))
  }

  private render (steps: NextStep[], limit: number): void {
    const shown = spread(steps, limit)
    reconcile(this.list, shown, s => `${s.table}/${s.noteId}`, s => this.item(s), updateItem)
    const rest = steps.length - shown.length
    setText(this.more, rest > 0 ? t('plenaryMore', { n: rest }) : steps.length === 0 ? t('plenaryEmpty') : '')
  }

  private item (step: NextStep): HTMLElement {
    const li = el('li', 'pl-step')
    const button = el('button', 'pl-step__button')
    button.type = 'button'
    button.setAttribute('aria-haspopup', 'dialog')
    button.append(el('span', `pl-badge pl-badge--${step.table}`, step.table.toUpperCase()), el('span', 'pl-step__text'))
    button.addEventListener('click', () => this.spotlight({ kind: 'note', table: step.table, note: step.noteId }, button))
    li.append(button)
    return li
  }
}

/**
 * Up to `limit` steps taken round-robin over the tables (each table's best first), so one
 * busy table does not push the others off the screen; within that, in table order.
 */
export function spread (steps: NextStep[], limit: number): NextStep[] {
  const byTable = new Map<string, NextStep[]>()
  for (const s of steps) byTable.set(s.table, [...(byTable.get(s.table) ?? []), s])
  const picked = new Set<NextStep>()
  for (let round = 0; picked.size < Math.min(limit, steps.length); round++) {
    for (const list of byTable.values()) {
      if (round < list.length && picked.size < limit) picked.add(list[round])
    }
  }
  return steps.filter(s => picked.has(s))
}

function updateItem (li: HTMLElement, step: NextStep): void {
  li.dataset.table = step.table
  setText(li.querySelector('.pl-step__text') as HTMLElement, step.text)
}
