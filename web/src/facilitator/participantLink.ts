//! Renewing the participant link: when a link or a phone has gone where it
//! should not, the facilitator replaces the participant key. The old link,
//! every identity signed under it and its open connections stop working;
//! the new link (and its QR codes) show here at once.
import { forgetSigned } from '../identity'
import { Refused, renewParticipantKey, type Renewed } from '../facilitation'
import { tf } from '../i18nFacilitation'
import { confirmDialog } from './confirmDialog'

export function participantLinkSection (event: string, renewed: (r: Renewed) => void): HTMLElement {
  const section = document.createElement('section')
  section.className = 'console-link'
  const h = document.createElement('h2')
  h.textContent = tf('linkTitle')
  const hint = document.createElement('p')
  hint.className = 'console-link__hint'
  hint.textContent = tf('linkHint')
  const button = document.createElement('button')
  button.type = 'button'
  button.className = 'danger'
  button.textContent = tf('linkRenew')
  const result = document.createElement('p')
  result.className = 'console-link__result'
  result.setAttribute('role', 'status')
  button.addEventListener('click', () => void (async () => {
    if (!await confirmDialog(tf('linkConfirmTitle'), tf('linkConfirmText'), tf('linkConfirmYes'))) return
    button.disabled = true
    try {
      const r = await renewParticipantKey(event)
      // This device's own identity was signed under the old key too.
      forgetSigned(event)
      const link = document.createElement('input')
      link.readOnly = true
      link.className = 'console-link__url'
      link.value = r.participantLink
      link.setAttribute('aria-label', tf('linkNew'))
      result.replaceChildren(tf('linkNew'), ' ', link)
      result.dataset.generation = String(r.generation)
      renewed(r)
    } catch (err) {
      result.textContent = tf('failed', { message: err instanceof Refused || err instanceof Error ? err.message : String(err) })
    } finally {
      button.disabled = false
    }
  })())
  section.append(h, hint, button, result)
  return section
}
