//! The small NL/EN toggle; switching re-renders the current route.
import { language, setLanguage, t } from './i18n'

export function languageSwitch (): HTMLButtonElement {
  const b = document.createElement('button')
  b.type = 'button'
  b.className = 'lang-switch'
  const code = language() === 'nl' ? 'EN' : 'NL'
  b.textContent = code
  // The name starts with the visible code, so speech control ("click EN") finds it.
  b.setAttribute('aria-label', `${code}: ${t('switchLanguageLabel')}`)
  b.title = t('switchLanguageLabel')
  b.addEventListener('click', () => {
    setLanguage(language() === 'nl' ? 'en' : 'nl')
    window.dispatchEvent(new CustomEvent('werktafel:language'))
  })
  return b
}
