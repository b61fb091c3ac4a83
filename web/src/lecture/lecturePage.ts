//! The lecture board (/e/{event}/zaal): everyone posts an insight or a question in one
//! line from a phone, gives others a +1 (one per person, counted by the server), and the
//! facilitator pins a few for the closing feedback. Built for 390×844 first.
import './lecture.css'
import { fetchEvent, type EventInfo } from '../api'
import { Connection, type ConnectionState } from '../connection'
import { MAX_INSIGHT_CHARS, myPlusOnes, pinInsight, plusOne } from '../dayApi'
import { Refused } from '../facilitation'
import { t } from '../i18n'
import { td, type DayKey } from '../i18nDay'
import { ensureSigned, type Identity } from '../identity'
import { languageSwitch } from '../languageSwitch'
import { idleHook, setHook, type WerktafelHook } from '../testHook'
import { LECTURE_ROOM, LectureDoc, type Insight, type InsightKind } from './lectureDoc'

export class LecturePage {
  readonly element = document.createElement('main')
  private readonly connection: Connection
  private readonly board: LectureDoc
  private readonly list = document.createElement('ol')
  private readonly pinnedList = document.createElement('ol')
  private readonly pinnedBox = document.createElement('section')
  private readonly empty = document.createElement('p')
  private readonly status = document.createElement('span')
  private readonly message = document.createElement('p')
  private readonly heading = document.createElement('h1')
  private readonly hook: WerktafelHook & { lecture?: () => { items: Insight[]; mine: string[]; facilitator: boolean } }
  private mine = new Set<string>()
  private facilitator = false
  private token = ''
  private readonly stop: Array<() => void> = []

  constructor (readonly event: string, private readonly me: Identity) {
    this.element.className = 'lecture'
    this.connection = new Connection(event, LECTURE_ROOM)
    this.board = new LectureDoc(this.connection.doc)
    this.hook = { ...idleHook('lecture', event), table: LECTURE_ROOM, lecture: () => ({ items: this.board.all(), mine: [...this.mine], facilitator: this.facilitator }) }
    this.hook.whenStored = async () => await this.connection.whenStored()
    this.hook.disconnect = () => this.connection.disconnect()
    this.hook.connect = () => this.connection.connect()
    setHook(this.hook)
    this.element.append(this.header(), this.form(), this.pinnedSection(), this.allSection())
    this.stop.push(this.board.onChange(() => this.render()))
    this.stop.push(this.connection.onChange(s => this.setStatus(s)))
    document.title = `${td('lectureTitle')} — Werktafel`
    void this.start()
  }

  destroy (): void {
    for (const stop of this.stop) stop()
    this.connection.destroy()
    this.element.remove()
  }

  private async start (): Promise<void> {
    const [info, signed] = await Promise.all([fetchEvent(this.event).catch(() => null), ensureSigned(this.event)])
    if (info) this.setEvent(info)
    this.token = signed?.token ?? ''
    if (this.token) {
      try { this.mine = new Set(await myPlusOnes(this.event, this.token)) } catch { /* offline: none known yet */ }
    }
    this.hook.ready = true
    this.render()
  }

  private setEvent (info: EventInfo): void {
    this.facilitator = info.role === 'facilitator'
    const lecture = info.programme.find(p => p.kind === 'lezing')
    this.heading.textContent = lecture ? `${td('lectureTitle')} · ${lecture.title}` : td('lectureTitle')
  }

  private header (): HTMLElement {
    const header = document.createElement('header')
    header.className = 'lecture__header'
    const back = document.createElement('a')
    back.href = `/e/${encodeURIComponent(this.event)}`
    back.textContent = `← ${t('back')}`
    back.className = 'lecture__back'
    this.status.className = 'status'
    this.status.setAttribute('role', 'status')
    this.heading.className = 'lecture__title'
    this.heading.textContent = td('lectureTitle')
    const top = document.createElement('div')
    top.className = 'lecture__top'
    top.append(back, this.status, languageSwitch())
    const intro = document.createElement('p')
    intro.className = 'lecture__intro'
    intro.textContent = td('lectureIntro')
    header.append(top, this.heading, intro)
    return header
  }

  private form (): HTMLElement {
    const form = document.createElement('form')
    form.className = 'lecture__form'
    const input = document.createElement('input')
    input.type = 'text'
    input.maxLength = MAX_INSIGHT_CHARS
    input.required = true
    input.placeholder = td('lectureInput')
    input.setAttribute('aria-label', td('lectureInput'))
    input.enterKeyHint = 'send'
    const kind = document.createElement('select')
    kind.setAttribute('aria-label', td('lectureKind'))
    for (const k of ['inzicht', 'vraag'] as const) kind.add(new Option(td(`kind_${k}`), k))
    const post = document.createElement('button')
    post.type = 'submit'
    post.className = 'primary'
    post.textContent = td('lecturePost')
    this.message.className = 'lecture__message'
    this.message.setAttribute('role', 'status')
    form.append(input, kind, post, this.message)
    form.addEventListener('submit', e => {
      e.preventDefault()
      const text = input.value.trim()
      if (!text) return
      this.board.add(text, kind.value as InsightKind, this.me.name, this.me.id)
      input.value = ''
      input.focus()
    })
    return form
  }

  private pinnedSection (): HTMLElement {
    this.pinnedBox.className = 'lecture__pinned'
    const h = document.createElement('h2')
    h.textContent = td('lecturePinned')
    this.pinnedList.className = 'lecture__list'
    this.pinnedBox.append(h, this.pinnedList)
    return this.pinnedBox
  }

  private allSection (): HTMLElement {
    const box = document.createElement('section')
    const h = document.createElement('h2')
    h.textContent = td('lectureAll')
    this.list.className = 'lecture__list'
    this.empty.className = 'lecture__empty'
    this.empty.textContent = td('lectureEmpty')
    box.append(h, this.empty, this.list)
    return box
  }

  private render (): void {
    const items = this.board.all()
    const pinned = items.filter(i => i.pinned !== null)
    const rest = items.filter(i => i.pinned === null)
    this.pinnedBox.hidden = pinned.length === 0
    this.empty.hidden = items.length > 0
    fill(this.pinnedList, pinned.map(i => this.item(i)))
    fill(this.list, rest.map(i => this.item(i)))
  }

  private item (insight: Insight): HTMLElement {
    const li = document.createElement('li')
    li.className = 'insight'
    li.dataset.id = insight.id
    li.dataset.kind = insight.kind
    const kind = document.createElement('span')
    kind.className = 'insight__kind'
    kind.textContent = td(`kind_${insight.kind}`)
    const text = document.createElement('p')
    text.className = 'insight__text'
    text.textContent = insight.text
    const by = document.createElement('span')
    by.className = 'insight__author'
    by.textContent = insight.author
    const actions = document.createElement('div')
    actions.className = 'insight__actions'
    const mine = this.mine.has(insight.id)
    const plus = button('insight__plus', `${td('plusOne')} · ${insight.plusOnes}`,
      mine ? td('plusOneMine') : td('plusOneLabel', { text: insight.text }))
    plus.setAttribute('aria-pressed', String(mine))
    plus.addEventListener('click', () => void this.plusOne(insight.id, mine ? -1 : 1))
    actions.append(plus)
    if (this.facilitator) {
      const pinned = insight.pinned !== null
      const pin = button('insight__pin', pinned ? td('unpin') : td('pin'),
        pinned ? td('unpinLabel', { text: insight.text }) : td('pinLabel', { text: insight.text }))
      pin.addEventListener('click', () => void this.pin(insight.id, !pinned))
      actions.append(pin)
    }
    li.append(kind, text, by, actions)
    return li
  }

  private async plusOne (id: string, delta: 1 | -1): Promise<void> {
    if (!this.token) this.token = (await ensureSigned(this.event))?.token ?? ''
    if (!this.token) { this.say(td('needName')); return }
    try {
      this.mine = new Set(await plusOne(this.event, this.token, id, delta))
      this.say('')
    } catch (err) { this.refused(err) }
    this.render()
  }

  private async pin (id: string, pinned: boolean): Promise<void> {
    try {
      await pinInsight(this.event, id, pinned)
      this.say('')
    } catch (err) { this.refused(err) }
  }

  private refused (err: unknown): void {
    const code = err instanceof Refused ? err.code : ''
    const key = `refused_${code}` as DayKey
    const known: DayKey[] = ['refused_already', 'refused_too-many-pins']
    this.say(known.includes(key) ? td(key) : td('refused', { message: err instanceof Error ? err.message : String(err) }))
  }

  private say (message: string): void {
    this.message.textContent = message
  }

  private setStatus (s: ConnectionState): void {
    this.hook.status = s.status
    this.hook.synced = s.synced
    this.status.dataset.status = s.status
    this.status.textContent = t(`status_${s.status}`)
    if (s.synced) this.render()
  }
}

function button (className: string, text: string, label: string): HTMLButtonElement {
  const b = document.createElement('button')
  b.type = 'button'
  b.className = className
  b.textContent = text
  // The name starts with what the button shows, so speech control ("click +1") finds it.
  b.setAttribute('aria-label', `${text}: ${label}`)
  return b
}

/** Replaces `list`'s items, keeping focus on the button that had it (by item and class). */
function fill (list: HTMLElement, items: HTMLElement[]): void {
  const active = document.activeElement as HTMLElement | null
  const li = active?.closest<HTMLElement>('.insight')
  const focus = li && list.contains(li) ? { id: li.dataset.id, cls: active?.className } : null
  list.replaceChildren(...items)
  if (focus?.id && focus.cls) {
    list.querySelector<HTMLElement>(`.insight[data-id="${CSS.escape(focus.id)}"] .${CSS.escape(focus.cls.split(' ')[0])}`)?.focus()
  }
}
