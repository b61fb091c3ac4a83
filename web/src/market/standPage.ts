//! A market stand's page (`/e/{event}/markt/{n}`): the team, its live texts
//! "waar staan we" and "ambities", its materials and the visitors' tips and
//! questions, all on the stand's own Yjs document (room `markt-ot{n}`).
import { Connection } from '../connection'
import { ensureSigned, type Identity } from '../identity'
import { languageSwitch } from '../languageSwitch'
import { ProgrammeNow } from '../programmeNow'
import { idleHook, setHook, type WerktafelHook } from '../testHook'
import { TextBinding } from '../board/textBinding'
import { el, field } from './dom'
import { tm } from './i18nMarket'
import { myMarks, standRoom } from './marketApi'
import { StandDoc } from './standDoc'
import { MaterialsSection, TipsSection } from './standSections'

export class StandPage {
  readonly element = el('main', 'stand')
  readonly connection: Connection
  private readonly doc: StandDoc
  private readonly title = el('h1', 'stand__title')
  private readonly focus = el('ul', 'stand__focus')
  private readonly bindings: TextBinding[] = []
  private readonly texts = el('div', 'stand__texts')
  private readonly tips: TipsSection
  private readonly programme: ProgrammeNow
  private readonly hook: WerktafelHook
  private readonly room: string

  constructor (readonly event: string, readonly number: number, private readonly me: Identity) {
    this.room = standRoom(number)
    this.connection = new Connection(event, this.room)
    this.doc = new StandDoc(this.connection.doc)
    const bar = el('header', 'stand__bar')
    const back = el('a', 'link-button', `← ${tm('marketOverview')}`)
    back.href = `/e/${encodeURIComponent(event)}/markt`
    this.programme = new ProgrammeNow(event)
    bar.append(el('span', 'brand', 'Werktafel'), back, this.programme.element, el('span', 'spacer'), languageSwitch())
    this.title.textContent = tm('stand', { n: number })
    const materials = new MaterialsSection(event, this.room, this.doc, () => this.me)
    this.tips = new TipsSection(event, this.room, this.doc, () => this.me)
    const columns = el('div', 'stand__columns')
    const left = el('div', 'stand__column')
    left.append(this.texts, materials.element)
    columns.append(left, this.tips.element)
    this.element.append(bar, this.title, this.focus, columns)

    this.hook = { ...idleHook('stand', event), table: this.room }
    this.hook.notes = () => []
    this.hook.stand = () => ({ tips: this.doc.readTips(), materials: this.doc.readMaterials(), mine: [...this.tips.mine] })
    this.hook.whenStored = async () => await this.connection.whenStored()
    setHook(this.hook)
    this.connection.onChange(s => {
      this.hook.status = s.status
      this.hook.synced = s.synced
      this.hook.localLoaded = s.localLoaded
      if (s.synced) this.renderTexts()
    })
    this.doc.meta.observe(() => this.renderTeam())
    this.doc.stand.observe(() => this.renderTexts())
    this.renderTeam()
    this.renderTexts()
    void this.loadMarks()
  }

  destroy (): void {
    for (const b of this.bindings) b.destroy()
    this.programme.destroy()
    this.connection.destroy()
    this.element.remove()
  }

  private renderTeam (): void {
    const team = this.doc.team()
    if (!team) return
    this.title.textContent = tm('standOf', { n: team.number, name: team.name })
    document.title = `${tm('stand', { n: team.number })} — Werktafel`
    this.focus.replaceChildren(...team.focus.map(f => el('li', '', f)))
  }

  /** The two texts bind once the server's `Y.Text`s have arrived. */
  private renderTexts (): void {
    if (this.bindings.length > 0) return
    const status = this.doc.text('status')
    const ambitions = this.doc.text('ambitions')
    if (!status || !ambitions) return
    for (const [name, text, hint] of [['status', status, tm('statusHint')], ['ambitions', ambitions, tm('ambitionsHint')]] as const) {
      const area = el('textarea', 'stand__text')
      area.rows = 5
      area.placeholder = hint
      this.bindings.push(new TextBinding(area, text, null, () => {}))
      const section = el('section', `stand__section stand__${name}`)
      const h2 = el('h2', '', tm(name))
      section.append(h2, field(tm(name), area, `stand-${name}`))
      section.querySelector('label')?.classList.add('visually-hidden')
      this.texts.append(section)
    }
    this.hook.ready = true
  }

  private async loadMarks (): Promise<void> {
    const signed = await ensureSigned(this.event)
    if (!signed?.token) return
    try {
      this.tips.setMine(await myMarks(this.event, this.room, signed.token))
    } catch { /* the marks show as unmarked until the next click */ }
  }
}
