//! Asks for the participant's name once; it is remembered on this device,
//! and the server signs an identity for it (needed for votes and drafts).
import { ensureSigned, saveName, savedName } from '../identity'
import { t } from '../i18n'

export function namePrompt (event: string, onSaved: () => void, compact = false): HTMLFormElement {
  const form = document.createElement('form')
  form.className = compact ? 'name-form name-form--compact' : 'name-form'
  const label = document.createElement('label')
  label.htmlFor = 'name-input'
  label.textContent = compact ? t('yourName') : t('namePrompt')
  const input = document.createElement('input')
  input.id = 'name-input'
  input.name = 'name'
  input.autocomplete = 'name'
  input.required = true
  input.maxLength = 40
  input.value = savedName()
  const button = document.createElement('button')
  button.type = 'submit'
  button.className = 'primary'
  button.textContent = t('nameSave')
  form.append(label, input, button)
  form.addEventListener('submit', e => {
    e.preventDefault()
    if (!input.value.trim()) return
    saveName(input.value)
    button.disabled = true
    // The board works without the signature (it asks again later), so a
    // server that does not answer only delays, never blocks, the next step.
    void ensureSigned(event).finally(onSaved)
  })
  return form
}
