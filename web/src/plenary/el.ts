//! The one DOM helper the plenary files share: an element with a class and text.

export function el<K extends keyof HTMLElementTagNameMap> (tag: K, className = '', text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  if (className) e.className = className
  if (text !== undefined) e.textContent = text
  return e
}

/** Sets text only when it changed, so screen readers and selections are left alone. */
export function setText (e: HTMLElement, text: string): void {
  if (e.textContent !== text) e.textContent = text
}

/**
 * Makes `list`'s children the elements for `items`, in order, reusing the element of an
 * item whose key was there before (so focus and hover survive a live update) and calling
 * `update` on every one.
 */
export function reconcile<T> (
  list: HTMLElement,
  items: readonly T[],
  key: (item: T) => string,
  create: (item: T) => HTMLElement,
  update: (element: HTMLElement, item: T) => void,
): void {
  const old = new Map<string, HTMLElement>()
  for (const child of Array.from(list.children) as HTMLElement[]) {
    if (child.dataset.key !== undefined) old.set(child.dataset.key, child)
  }
  let at: Element | null = list.firstElementChild
  for (const item of items) {
    const k = key(item)
    let e = old.get(k)
    old.delete(k)
    if (!e) {
      e = create(item)
      e.dataset.key = k
    }
    // Inserted before updating, so `update` can measure the element in place.
    if (e !== at) list.insertBefore(e, at)
    else at = at.nextElementSibling
    update(e, item)
  }
  for (const e of old.values()) e.remove()
}

/**
 * Renders with each of `counts` in turn (largest first) and keeps the first that fits
 * `box` without overflowing it; returns the count kept. The projector screen never
 * scrolls, so a box shows as much as fits rather than a fixed number that may not.
 */
export function fitLargest (box: HTMLElement, counts: readonly number[], render: (n: number) => void): number {
  for (const n of counts) {
    render(n)
    if (box.scrollHeight <= box.clientHeight + 1) return n
  }
  return counts[counts.length - 1]
}
