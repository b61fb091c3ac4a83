//! The shared themes: words and phrases that notes of two or more tables mention, with
//! the letters of those tables.
import { t } from '../i18n'
import { el, reconcile } from './el'
import type { Theme } from './summary'

/** Themes shown at once; the summary ranks them, most widely shared first. */
export const THEMES_SHOWN = 10

export class Themes {
  readonly element = el('section', 'pl-panel pl-themes')
  private readonly list = el('ul', 'pl-themes__list')
  private readonly empty = el('p', 'pl-themes__empty', t('plenaryNoThemes'))

  constructor () {
    this.element.append(el('h2', 'pl-panel__title', t('plenaryThemes')), this.list, this.empty)
  }

  update (themes: Theme[]): void {
    reconcile(this.list, themes.slice(0, THEMES_SHOWN), th => th.term, () => el('li', 'pl-theme'), updateTheme)
    this.empty.hidden = themes.length > 0
  }
}

function updateTheme (li: HTMLElement, theme: Theme): void {
  const badges = theme.tables.map(id => el('span', `pl-badge pl-badge--${id}`, id.toUpperCase()))
  li.replaceChildren(el('span', 'pl-theme__term', theme.term), ...badges)
  li.setAttribute('aria-label', `${theme.term}: ${theme.tables.map(id => `${t('table')} ${id.toUpperCase()}`).join(', ')}`)
}
