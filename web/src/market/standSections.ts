//! The two lists of a stand page that change most: the materials (links,
//! images, PDFs, with the add-link form and the upload) and the tips and
//! questions (with the form to leave one and the useful marks).
import { ensureSigned, type Identity } from '../identity'
import { el, field } from './dom'
import { tm } from './i18nMarket'
import { fileUrl, markUseful, uploadFile, type Material, type Tip } from './marketApi'
import { isWebLink, MAX_TIP_CHARS, StandDoc, type TipKind } from './standDoc'

export class MaterialsSection {
  readonly element = el('section', 'stand__section stand__materials')
  private readonly list = el('ul', 'materials')
  private readonly status = el('p', 'stand__notice')

  constructor (private readonly event: string, private readonly room: string, private readonly doc: StandDoc, private readonly me: () => Identity) {
    this.element.setAttribute('aria-labelledby', 'materials-title')
    const h2 = el('h2', '', tm('materials'))
    h2.id = 'materials-title'
    this.status.setAttribute('role', 'status')
    this.element.append(h2, this.list, this.linkForm(), this.uploadForm(), this.status)
    doc.materials.observeDeep(() => this.render())
    this.render()
  }

  private render (): void {
    const items = this.doc.readMaterials()
    if (items.length === 0) {
      this.list.replaceChildren(el('li', 'materials__empty', tm('noMaterials')))
      return
    }
    this.list.replaceChildren(...items.map(m => this.item(m)))
  }

  private item (m: Material): HTMLLIElement {
    const li = el('li', `material material--${m.kind === 'file' ? 'file' : 'link'}`)
    li.dataset.material = m.id
    const href = m.kind === 'file' ? fileUrl(this.event, m.url) : m.url
    if (m.kind === 'file' && m.mime.startsWith('image/')) {
      const img = el('img', 'material__image')
      img.src = href
      img.alt = m.title
      img.loading = 'lazy'
      li.append(img)
    }
    if (m.kind === 'file' || isWebLink(m.url)) {
      const a = el('a', 'material__link', m.title || m.url)
      a.href = href
      a.rel = 'noopener noreferrer'
      a.target = '_blank'
      li.append(a)
    } else {
      li.append(el('span', 'material__link', m.title))
    }
    li.append(el('span', 'material__by', tm('by', { author: m.author })))
    return li
  }

  private linkForm (): HTMLFormElement {
    const form = el('form', 'stand__form')
    const title = el('input')
    title.maxLength = 120
    const url = el('input')
    url.type = 'url'
    url.required = true
    const submit = el('button', 'primary', tm('addLink'))
    submit.type = 'submit'
    form.append(field(tm('linkTitle'), title, 'link-title'), field(tm('linkUrl'), url, 'link-url'), submit)
    form.addEventListener('submit', e => {
      e.preventDefault()
      const address = url.value.trim()
      if (!isWebLink(address)) {
        this.status.textContent = tm('badLink')
        return
      }
      const me = this.me()
      this.doc.addLink(title.value.trim() || address, address, me.name, me.id)
      form.reset()
      this.status.textContent = ''
    })
    return form
  }

  private uploadForm (): HTMLElement {
    const input = el('input', 'stand__upload')
    input.type = 'file'
    input.accept = 'image/png,image/jpeg,image/webp,image/gif,application/pdf'
    input.addEventListener('change', () => {
      const file = input.files?.[0]
      if (file) void this.upload(file).finally(() => { input.value = '' })
    })
    return field(tm('uploadFile'), input, 'stand-upload')
  }

  private async upload (file: File): Promise<void> {
    this.status.textContent = tm('uploading')
    try {
      const signed = await ensureSigned(this.event)
      if (!signed?.token) throw new Error(tm('needName'))
      const done = await uploadFile(this.event, this.room, signed.token, file)
      this.status.textContent = tm('uploaded', { name: done.name })
    } catch (err) {
      this.status.textContent = tm('uploadFailed', { message: (err as Error).message })
    }
  }
}

export class TipsSection {
  readonly element = el('section', 'stand__section stand__tips')
  private readonly list = el('ul', 'tips')
  private readonly status = el('p', 'stand__notice')
  mine = new Set<string>()

  constructor (private readonly event: string, private readonly room: string, private readonly doc: StandDoc, private readonly me: () => Identity) {
    this.element.setAttribute('aria-labelledby', 'tips-title')
    const h2 = el('h2', '', tm('tipsAndQuestions'))
    h2.id = 'tips-title'
    this.status.setAttribute('role', 'status')
    this.element.append(h2, this.form(), this.status, this.list)
    doc.tips.observeDeep(() => this.render())
    doc.votes.observe(() => this.render())
    this.render()
  }

  setMine (mine: string[]): void {
    this.mine = new Set(mine)
    this.render()
  }

  private form (): HTMLFormElement {
    const form = el('form', 'stand__form stand__tip-form')
    const kind = el('select')
    for (const k of ['tip', 'vraag'] as const) {
      const o = el('option', '', k === 'tip' ? tm('kindTip') : tm('kindVraag'))
      o.value = k
      kind.append(o)
    }
    const text = el('textarea')
    text.rows = 2
    text.maxLength = MAX_TIP_CHARS
    text.required = true
    const submit = el('button', 'primary', tm('leaveTip'))
    submit.type = 'submit'
    form.append(field(tm('kindTip') + ' / ' + tm('kindVraag'), kind, 'tip-kind'), field(tm('tipText'), text, 'tip-text'), submit)
    form.addEventListener('submit', e => {
      e.preventDefault()
      const value = text.value.trim()
      if (!value) return
      const me = this.me()
      this.doc.addTip(kind.value as TipKind, value, me.name, me.id)
      text.value = ''
    })
    return form
  }

  private render (): void {
    const tips = this.doc.readTips()
    if (tips.length === 0) {
      this.list.replaceChildren(el('li', 'tips__empty', tm('noTips')))
      return
    }
    this.list.replaceChildren(...tips.map(t => this.item(t)))
  }

  private item (tip: Tip): HTMLLIElement {
    const li = el('li', `tip tip--${tip.kind}`)
    li.dataset.tip = tip.id
    const kind = el('span', 'tip__kind', tip.kind === 'vraag' ? tm('kindVraag') : tm('kindTip'))
    const text = el('p', 'tip__text', tip.text)
    const by = el('span', 'tip__by', tm('by', { author: tip.author }))
    const marked = this.mine.has(tip.id)
    const useful = el('button', 'tip__useful', `${tm('useful')} · ${tip.useful}`)
    useful.type = 'button'
    useful.dataset.useful = String(tip.useful)
    useful.setAttribute('aria-pressed', String(marked))
    useful.setAttribute('aria-label', `${tm('useful')} · ${tip.useful}: ${marked ? tm('unmarkUseful', { author: tip.author }) : tm('markUseful', { author: tip.author })}`)
    useful.addEventListener('click', () => void this.toggle(tip.id, !marked))
    li.append(kind, text, by, useful)
    return li
  }

  private async toggle (tipId: string, useful: boolean): Promise<void> {
    try {
      const signed = await ensureSigned(this.event)
      if (!signed?.token) throw new Error(tm('needName'))
      this.setMine(await markUseful(this.event, this.room, signed.token, tipId, useful))
      this.status.textContent = ''
    } catch (err) {
      this.status.textContent = (err as Error).message
    }
  }
}
