//! A tiny element helper for the market pages.
export function el<K extends keyof HTMLElementTagNameMap> (tag: K, className = '', text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  if (className) e.className = className
  if (text !== undefined) e.textContent = text
  return e
}

/** A labelled field: the label's text is the field's accessible name. */
export function field<T extends HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement> (label: string, control: T, id: string): HTMLElement {
  const wrap = el('div', 'field')
  const l = el('label', 'field__label', label)
  control.id = id
  l.htmlFor = id
  wrap.append(l, control)
  return wrap
}
