//! A modal yes/no question for controls that cannot be undone by a click
//! (closing a table), with the consequence spelled out.
import { tf } from '../i18nFacilitation'

export function confirmDialog (title: string, text: string, yes: string): Promise<boolean> {
  const dialog = document.createElement('dialog')
  dialog.className = 'confirm'
  const h = document.createElement('h2')
  h.textContent = title
  const p = document.createElement('p')
  p.textContent = text
  const row = document.createElement('div')
  row.className = 'confirm__buttons'
  const ok = document.createElement('button')
  ok.type = 'button'
  ok.className = 'danger'
  ok.textContent = yes
  const cancel = document.createElement('button')
  cancel.type = 'button'
  cancel.textContent = tf('cancel')
  row.append(cancel, ok)
  dialog.append(h, p, row)
  document.body.append(dialog)
  return new Promise(resolve => {
    const done = (answer: boolean): void => {
      dialog.close()
      dialog.remove()
      resolve(answer)
    }
    ok.addEventListener('click', () => done(true))
    cancel.addEventListener('click', () => done(false))
    dialog.addEventListener('cancel', e => { e.preventDefault(); done(false) })
    dialog.showModal()
    cancel.focus()
  })
}
