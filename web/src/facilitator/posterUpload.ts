//! The console's poster section: the organiser puts a PNG, JPEG or WebP
//! image in place of the built-in droomproces drawing. The server checks the
//! bytes and the size (415 / 413); the answer is shown in words.
import { withKey } from '../access'
import { tp } from '../i18nPoster'

export function posterUploadSection (event: string, say: (message: string, kind: 'ok' | 'error') => void): HTMLElement {
  const section = document.createElement('section')
  section.className = 'console-poster'
  const h = document.createElement('h2')
  h.textContent = tp('posterRegion')
  const label = document.createElement('label')
  label.className = 'controls__label'
  label.textContent = tp('posterUpload')
  const input = document.createElement('input')
  input.type = 'file'
  input.accept = 'image/png,image/jpeg,image/webp'
  input.className = 'console-poster__file'
  label.append(input)
  const preview = document.createElement('img')
  preview.className = 'console-poster__preview'
  preview.alt = tp('posterImage')
  const url = withKey(event, `/api/events/${encodeURIComponent(event)}/poster`)
  preview.src = url
  input.addEventListener('change', () => {
    const file = input.files?.[0]
    if (!file) return
    void (async () => {
      const res = await fetch(url, { method: 'PUT', body: file, headers: { 'content-type': file.type || 'application/octet-stream' } })
      if (res.ok) {
        say(tp('posterUploaded'), 'ok')
        preview.src = `${url}&v=${Date.now()}`
      } else {
        say(res.status === 413 ? tp('posterTooLarge') : res.status === 415 ? tp('posterWrongType') : `${res.status}`, 'error')
      }
      input.value = ''
    })()
  })
  section.append(h, label, preview)
  return section
}
