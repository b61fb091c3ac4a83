//! The closing feedback's next steps on the plenary's day view: everyone sees them live,
//! in the facilitator's order, with owner, moment, source and follow-up; the facilitator
//! adds, edits (each field saved when it changes), reorders and removes them, and can adopt
//! a table's proposal. The server checks every change (only the facilitator's key writes).
import { addStep, FOLLOW_UPS, MAX_STEP_DUE_CHARS, MAX_STEP_OWNER_CHARS, MAX_STEP_TEXT_CHARS, removeStep, reorderSteps, updateStep, type StepInput, type StepSource } from '../dayApi'
import { td } from '../i18nDay'
import { el, reconcile, setText } from './el'
import type { ClosingStepView, Summary } from './summary'

export class ClosingSteps {
  readonly element = el('section', 'pl-panel pl-closing')
  private readonly list = el('ol', 'pl-closing__list')
  private readonly empty = el('p', 'pl-closing__empty', td('closingEmpty'))
  private readonly message = el('p', 'pl-closing__message')
  private readonly proposals = el('ul', 'pl-closing__proposals')
  private readonly proposalsBox = el('details', 'pl-closing__from-tables')
  private sources: Array<[string, string]> = []
  private steps: ClosingStepView[] = []

  constructor (private readonly event: string, private readonly editable: boolean) {
    const title = el('h2', 'pl-panel__title', td('closingSteps'))
    title.id = 'pl-closing-title'
    this.element.setAttribute('aria-labelledby', title.id)
    this.message.setAttribute('role', 'status')
    this.element.append(title, this.empty, this.list, this.message)
    if (editable) {
      this.element.classList.add('pl-closing--edit')
      // The organiser's list can grow past the screen: it scrolls, and the keyboard reaches it.
      this.list.tabIndex = 0
      this.list.setAttribute('aria-labelledby', title.id)
      this.element.append(this.addForm())
      this.proposals.tabIndex = 0
      this.proposals.setAttribute('aria-label', td('fromTables'))
      this.proposalsBox.append(el('summary', '', td('fromTables')), this.proposals)
      this.element.append(this.proposalsBox)
    }
  }

  update (summary: Summary): void {
    this.steps = summary.closingSteps
    this.sources = sourceOptions(summary)
    this.empty.hidden = this.steps.length > 0
    reconcile(this.list, this.steps, s => s.id, s => this.item(s), (li, s) => this.fill(li, s))
    if (this.editable) {
      reconcile(this.proposals, summary.nextSteps.slice(0, 20), s => `${s.table}/${s.noteId}`, s => this.proposal(s.text, s.table, s.owner, s.due), () => {})
    }
  }

  private item (step: ClosingStepView): HTMLElement {
    const li = el('li', 'pl-closing__step')
    if (!this.editable) {
      li.append(el('span', 'pl-closing__tag'), el('p', 'pl-closing__text'), el('p', 'pl-closing__meta'))
      return li
    }
    const text = field('input', 'text', td('stepText'), MAX_STEP_TEXT_CHARS)
    const owner = field('input', 'owner', td('stepOwner'), MAX_STEP_OWNER_CHARS)
    const due = field('input', 'due', td('stepDue'), MAX_STEP_DUE_CHARS)
    const source = document.createElement('select')
    source.className = 'pl-closing__source'
    const followUp = document.createElement('select')
    followUp.className = 'pl-closing__follow'
    for (const f of FOLLOW_UPS) followUp.add(new Option(td(`follow_${f}`), f))
    const save = (change: StepInput): void => void this.run(async () => { await updateStep(this.event, step.id, change) })
    text.addEventListener('change', () => save({ text: text.value }))
    owner.addEventListener('change', () => save({ owner: owner.value }))
    due.addEventListener('change', () => save({ due: due.value }))
    source.addEventListener('change', () => save({ source: parseSource(source.value) }))
    followUp.addEventListener('change', () => save({ followUp: followUp.value as StepInput['followUp'] }))
    const tools = el('div', 'pl-closing__tools')
    for (const [label, glyph, fn] of [
      [td('stepUp'), '↑', () => this.move(step.id, -1)],
      [td('stepDown'), '↓', () => this.move(step.id, 1)],
      [td('stepRemove'), '✕', () => void this.run(async () => { await removeStep(this.event, step.id) })],
    ] as const) {
      const b = el('button', 'pl-closing__tool', glyph)
      b.type = 'button'
      b.dataset.tool = label
      b.addEventListener('click', fn)
      tools.append(b)
    }
    li.append(text, owner, due, labelled(source, td('stepSource')), labelled(followUp, td('stepFollowUp')), tools)
    return li
  }

  private fill (li: HTMLElement, step: ClosingStepView): void {
    const n = this.steps.indexOf(step) + 1
    li.dataset.followUp = step.followUp
    if (!this.editable) {
      setText(li.querySelector('.pl-closing__tag') as HTMLElement, td(`follow_${step.followUp}`))
      setText(li.querySelector('.pl-closing__text') as HTMLElement, step.text)
      const meta = [step.owner, step.due, step.sourceLabel].filter(Boolean).join(' · ')
      setText(li.querySelector('.pl-closing__meta') as HTMLElement, meta)
      return
    }
    li.setAttribute('aria-label', td('stepLabel', { n }))
    for (const [name, value] of [['text', step.text], ['owner', step.owner], ['due', step.due]] as const) {
      const input = li.querySelector<HTMLInputElement>(`input[name="${name}"]`)
      // Someone typing keeps what they type; the server's value comes with their change.
      if (input && document.activeElement !== input && input.value !== value) input.value = value
    }
    const source = li.querySelector('select.pl-closing__source') as HTMLSelectElement
    const value = sourceValue(step.source)
    const options = [['', td('stepNoSource')], ...this.sources]
    if (value && !options.some(([v]) => v === value)) options.push([value, step.sourceLabel])
    if (source.options.length !== options.length || Array.from(source.options).some((o, i) => o.value !== options[i][0])) {
      source.replaceChildren(...options.map(([v, label]) => new Option(label, v)))
    }
    source.value = value
    ;(li.querySelector('select.pl-closing__follow') as HTMLSelectElement).value = step.followUp
    for (const b of li.querySelectorAll<HTMLButtonElement>('.pl-closing__tool')) {
      b.setAttribute('aria-label', `${b.dataset.tool ?? ''}: ${td('stepLabel', { n })}`)
    }
  }

  private addForm (): HTMLElement {
    const form = el('form', 'pl-closing__add')
    const text = field('input', 'new-text', td('stepText'), MAX_STEP_TEXT_CHARS)
    text.required = true
    const owner = field('input', 'new-owner', td('stepOwner'), MAX_STEP_OWNER_CHARS)
    const due = field('input', 'new-due', td('stepDue'), MAX_STEP_DUE_CHARS)
    const followUp = document.createElement('select')
    for (const f of FOLLOW_UPS) followUp.add(new Option(td(`follow_${f}`), f))
    followUp.setAttribute('aria-label', td('stepFollowUp'))
    const add = el('button', 'primary', td('stepAdd'))
    add.type = 'submit'
    form.append(text, owner, due, followUp, add)
    form.addEventListener('submit', e => {
      e.preventDefault()
      const input: StepInput = { text: text.value, owner: owner.value, due: due.value, followUp: followUp.value as StepInput['followUp'] }
      void this.run(async () => {
        await addStep(this.event, input)
        form.reset()
        text.focus()
      })
    })
    return form
  }

  private proposal (text: string, table: string, owner: string, due: string): HTMLElement {
    const li = el('li', 'pl-closing__proposal')
    const adopt = el('button', 'pl-closing__adopt', td('adopt'))
    adopt.type = 'button'
    adopt.setAttribute('aria-label', td('adoptLabel', { text }))
    adopt.addEventListener('click', () => void this.run(async () => {
      await addStep(this.event, { text, owner, due, source: { kind: 'table', id: table } })
    }))
    li.append(el('span', `pl-badge pl-badge--${table}`, table.toUpperCase()), el('span', 'pl-closing__proposal-text', text), adopt)
    return li
  }

  private move (id: string, by: -1 | 1): void {
    const ids = this.steps.map(s => s.id)
    const at = ids.indexOf(id)
    const to = at + by
    if (at < 0 || to < 0 || to >= ids.length) return
    ;[ids[at], ids[to]] = [ids[to], ids[at]]
    void this.run(async () => { await reorderSteps(this.event, ids) })
  }

  private async run (action: () => Promise<void>): Promise<void> {
    try {
      await action()
      setText(this.message, '')
    } catch (err) {
      setText(this.message, td('refused', { message: err instanceof Error ? err.message : String(err) }))
    }
  }
}

function field (tag: 'input', name: string, label: string, max: number): HTMLInputElement {
  const input = document.createElement(tag)
  input.name = name
  input.maxLength = max
  input.placeholder = label
  input.setAttribute('aria-label', label)
  input.className = `pl-closing__field pl-closing__field--${name}`
  return input
}

function labelled (select: HTMLSelectElement, label: string): HTMLSelectElement {
  select.setAttribute('aria-label', label)
  return select
}

/** Every source a step can name: tables, stands, pinned insights. */
function sourceOptions (summary: Summary): Array<[string, string]> {
  return [
    ...summary.tables.map(table => [`table:${table.id}`, `${td('sourceTable', { id: table.id.toUpperCase() })} — ${table.title}`] as [string, string]),
    ...summary.market.map(stand => [`stand:${stand.team}`, `${td('sourceStand', { n: stand.team })} — ${stand.name}`] as [string, string]),
    ...summary.lecture.pinned.map(item => [`lecture:${item.id}`, td('sourceLecture', { text: item.text.slice(0, 60) })] as [string, string]),
  ]
}

function sourceValue (source: StepSource | null): string {
  if (!source) return ''
  if (source.kind === 'table') return `table:${source.id}`
  if (source.kind === 'stand') return `stand:${source.team}`
  return `lecture:${source.insight}`
}

function parseSource (value: string): StepSource | null {
  const [kind, id] = [value.slice(0, value.indexOf(':')), value.slice(value.indexOf(':') + 1)]
  if (kind === 'table') return { kind, id }
  if (kind === 'stand') return { kind, team: Number(id) }
  if (kind === 'lecture') return { kind, insight: id }
  return null
}
