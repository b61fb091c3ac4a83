//! The small NL/EN toggle; switching re-renders the current route.
import { language, setLanguage, t } from './i18n'

export function languageSwitch (): HTMLButtonElement {
  const b = document.createElement('button')
  b.type = 'button'
  b.className = 'lang-switch'
  b.textContent = language() === 'nl' ? 'EN' : 'NL'
  b.setAttribute('aria-label', t('switchLanguageLabel'))
  b.title = t('switchLanguageLabel')
  b.addEventListener('click', () => {
    setLanguage(language() === 'nl' ? 'en' : 'nl')
    window.dispatchEvent(new CustomEvent('werktafel:language'))
  })
  return b
}
