//! The board's top bar: way back, table title and question, connection state,
//! who is here, undo/redo and the language switch.
import type { ConnectionStatus } from '../connection'
import type { TableMeta } from '../schema'
import { t } from '../i18n'
import { languageSwitch } from '../languageSwitch'

export class BoardHeader {
  readonly element = document.createElement('header')
  readonly undoButton = document.createElement('button')
  readonly redoButton = document.createElement('button')
  private readonly title = document.createElement('p')
  private readonly question = document.createElement('h1')
  private readonly status = document.createElement('span')
  private readonly about = document.createElement('details')

  constructor (event: string, table: string, presence: HTMLElement, onUndo: () => void, onRedo: () => void) {
    this.element.className = 'board-header'
    const top = document.createElement('div')
    top.className = 'board-header__top'
    const back = document.createElement('a')
    back.className = 'board-header__back'
    back.href = `/e/${encodeURIComponent(event)}`
    back.textContent = `← ${t('back')}`
    this.title.className = 'board-header__table'
    this.title.textContent = `${t('table')} ${table.toUpperCase()}`
    this.status.className = 'status'
    this.status.setAttribute('role', 'status')
    this.status.setAttribute('aria-live', 'polite')
    const history = document.createElement('div')
    history.className = 'board-header__history'
    for (const [b, label, glyph, fn] of [
      [this.undoButton, t('undo'), '↶', onUndo], [this.redoButton, t('redo'), '↷', onRedo],
    ] as const) {
      b.type = 'button'
      b.className = 'icon-button'
      b.textContent = glyph
      b.title = `${label} (${glyph === '↶' ? 'Ctrl+Z' : 'Ctrl+Shift+Z'})`
      b.setAttribute('aria-label', label)
      b.addEventListener('click', fn)
      history.append(b)
    }
    const spacer = document.createElement('span')
    spacer.className = 'spacer'
    top.append(back, this.title, spacer, this.status, presence, history, languageSwitch())
    this.question.className = 'board-header__question'
    this.question.id = 'table-question'
    this.about.className = 'board-header__about'
    this.element.append(top, this.question, this.about)
  }

  setMeta (meta: TableMeta, table: string): void {
    const title = meta.title ? `${t('table')} ${table.toUpperCase()} · ${meta.title}` : `${t('table')} ${table.toUpperCase()}`
    this.title.textContent = title
    this.question.textContent = meta.question || '…'
    document.title = `${title} — Werktafel`
    this.renderAbout(meta)
  }

  /** Cluster, cases and linked teams, folded away under the question. */
  private renderAbout (meta: TableMeta): void {
    this.about.hidden = !meta.cluster && meta.cases.length === 0
    const summary = document.createElement('summary')
    const parts = [
      meta.cluster ? `${t('cluster')} ${meta.cluster.id}` : '',
      meta.cases.length ? `${t('cases')}: ${meta.cases.map(c => c.city).join(', ')}` : '',
      meta.teams.length ? meta.teams.map(team => `OT ${team.number}`).join(', ') : '',
    ]
    summary.textContent = parts.filter(Boolean).join(' · ')
    const body = document.createElement('div')
    body.className = 'board-header__about-body'
    const list = (title: string, items: string[]): HTMLElement => {
      const section = document.createElement('section')
      const h = document.createElement('h2')
      h.textContent = title
      const ul = document.createElement('ul')
      for (const text of items) {
        const li = document.createElement('li')
        li.textContent = text
        ul.append(li)
      }
      section.append(h, ul)
      return section
    }
    if (meta.cluster) body.append(list(`${t('cluster')} ${meta.cluster.id}`, [meta.cluster.title, meta.cluster.question]))
    body.append(list(t('cases'), meta.cases.map(c => `${c.name} — ${c.city}`)))
    body.append(list(t('teams'), meta.teams.map(team => `OT ${team.number} ${team.name}${team.focus.length ? `: ${team.focus.join('; ')}` : ''}`)))
    this.about.replaceChildren(summary, body)
  }

  setStatus (status: ConnectionStatus, online: boolean): void {
    const shown: ConnectionStatus = !online ? 'disconnected' : status
    this.status.dataset.status = shown
    this.status.textContent = t(`status_${shown}`)
  }

  setHistory (canUndo: boolean, canRedo: boolean): void {
    this.undoButton.disabled = !canUndo
    this.redoButton.disabled = !canRedo
  }
}
