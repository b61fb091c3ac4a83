//! Binds a Y.Text to a <textarea> with fine-grained edits: local input becomes
//! the minimal delete+insert on the Y.Text, and remote deltas are applied to the
//! textarea while keeping the local caret and selection where they belong.
import * as Y from 'yjs'

export class TextBinding {
  private last: string
  private applyingLocal = false
  private readonly onInput = (): void => this.pushLocal()
  private readonly observer = (e: Y.YTextEvent): void => this.pullRemote(e)

  constructor (
    private readonly textarea: HTMLTextAreaElement,
    private readonly ytext: Y.Text,
    /** Origin of local transactions, so the UndoManager tracks them as ours. */
    private readonly origin: unknown,
    private readonly afterLocalEdit: () => void,
  ) {
    this.last = ytext.toString()
    textarea.value = this.last
    textarea.addEventListener('input', this.onInput)
    ytext.observe(this.observer)
  }

  destroy (): void {
    this.textarea.removeEventListener('input', this.onInput)
    this.ytext.unobserve(this.observer)
  }

  private pushLocal (): void {
    const next = this.textarea.value
    const prev = this.last
    if (next === prev) return
    const { index, removed, inserted } = diff(prev, next, this.textarea.selectionEnd)
    this.applyingLocal = true
    try {
      this.ytext.doc?.transact(() => {
        if (removed > 0) this.ytext.delete(index, removed)
        if (inserted) this.ytext.insert(index, inserted)
        this.afterLocalEdit()
      }, this.origin)
    } finally {
      this.applyingLocal = false
    }
    this.last = this.ytext.toString()
  }

  private pullRemote (event: Y.YTextEvent): void {
    if (this.applyingLocal) return
    const ta = this.textarea
    const focused = document.activeElement === ta
    let start = ta.selectionStart
    let end = ta.selectionEnd
    let index = 0
    for (const op of event.delta) {
      if (op.retain !== undefined) {
        index += op.retain
      } else if (op.insert !== undefined) {
        const len = typeof op.insert === 'string' ? op.insert.length : 1
        // Text typed by someone else exactly at our caret appears after it,
        // so our own next keystroke still lands where we expect.
        if (start > index) start += len
        if (end > index) end += len
        index += len
      } else if (op.delete !== undefined) {
        start = shiftForDelete(start, index, op.delete)
        end = shiftForDelete(end, index, op.delete)
      }
    }
    this.last = this.ytext.toString()
    if (ta.value !== this.last) {
      ta.value = this.last
      if (focused) ta.setSelectionRange(start, Math.max(start, end))
      ta.dispatchEvent(new CustomEvent('remote-change'))
    }
  }
}

function shiftForDelete (pos: number, index: number, len: number): number {
  if (pos <= index) return pos
  return Math.max(index, pos - len)
}

/**
 * The single changed region between two strings. `caret` (the caret after the
 * edit) disambiguates repeated characters, e.g. typing "a" into "aa".
 */
export function diff (prev: string, next: string, caret: number): { index: number; removed: number; inserted: string } {
  const maxPrefix = Math.min(prev.length, next.length)
  let prefix = 0
  while (prefix < maxPrefix && prev[prefix] === next[prefix]) prefix++
  // The change cannot start after the caret: keep the prefix left of it.
  const inserted = next.length - prev.length
  if (inserted > 0) prefix = Math.min(prefix, Math.max(0, caret - inserted))
  let suffix = 0
  while (
    suffix < prev.length - prefix &&
    suffix < next.length - prefix &&
    prev[prev.length - 1 - suffix] === next[next.length - 1 - suffix]
  ) suffix++
  return {
    index: prefix,
    removed: prev.length - prefix - suffix,
    inserted: next.slice(prefix, next.length - suffix),
  }
}
