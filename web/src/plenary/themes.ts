//! The shared themes: words and phrases that notes of two or more tables mention, with
//! the letters of those tables.
import { t } from '../i18n'
import { el, fitLargest, reconcile } from './el'
import type { Theme } from './summary'

/** How many themes the panel tries to show, most first; the summary ranks them, most widely shared first. */
export const THEMES_SHOWN = [12, 10, 8, 6, 4] as const

export class Themes {
  readonly element = el('section', 'pl-panel pl-themes')
  private readonly list = el('ul', 'pl-themes__list')
  private readonly empty = el('p', 'pl-themes__empty', t('plenaryNoThemes'))

  constructor () {
    this.element.append(el('h2', 'pl-panel__title', t('plenaryThemes')), this.list, this.empty)
  }

  update (themes: Theme[]): void {
    this.empty.hidden = themes.length > 0
    fitLargest(this.element, THEMES_SHOWN, n => reconcile(this.list, themes.slice(0, n), th => th.term, () => el('li', 'pl-theme'), updateTheme))
  }
}

function updateTheme (li: HTMLElement, theme: Theme): void {
  const badges = theme.tables.map(id => el('span', `pl-badge pl-badge--${id}`, id.toUpperCase()))
  li.replaceChildren(el('span', 'pl-theme__term', theme.term), ...badges)
  li.setAttribute('aria-label', `${theme.term}: ${theme.tables.map(id => `${t('table')} ${id.toUpperCase()}`).join(', ')}`)
}
