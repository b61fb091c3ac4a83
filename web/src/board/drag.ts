//! Dragging a note with pointer events (mouse, pen and touch alike), within a
//! lane and across lanes. The note follows the pointer with a CSS transform
//! and is written to the document once, on release.
import type { Lane } from '../schema'
import type { LaneView } from './lane'

/** Pointer travel (px) before a press on the grip becomes a drag. */
const DRAG_THRESHOLD = 4

export interface Drop {
  lane: Lane
  /** Where the note's top-left corner landed, in the target lane's board units. */
  x: number
  y: number
  /** The pointer's viewport y at release (for list order on narrow screens). */
  pointerY: number
  /** The note or group under the pointer at release, other than the dragged one. */
  onto: { note?: string; group?: string }
}

export function startDrag (
  e: PointerEvent,
  note: HTMLElement,
  lanes: LaneView[],
  narrow: () => boolean,
  onDrop: (drop: Drop) => void,
): void {
  if (e.button !== 0) return
  const handle = e.currentTarget as HTMLElement
  handle.setPointerCapture(e.pointerId)
  const start = { x: e.clientX, y: e.clientY }
  const origin = note.getBoundingClientRect()
  let dragging = false
  let target: LaneView | undefined

  const move = (ev: PointerEvent): void => {
    const dx = ev.clientX - start.x
    const dy = ev.clientY - start.y
    if (!dragging && Math.hypot(dx, dy) < DRAG_THRESHOLD) return
    if (!dragging) {
      dragging = true
      note.classList.add('note--dragging')
    }
    note.style.transform = `translate(${dx}px, ${dy}px) rotate(1.5deg)`
    const over = laneAt(lanes, ev.clientX, ev.clientY, narrow())
    if (over !== target) {
      target?.element.classList.remove('lane--drop')
      over?.element.classList.add('lane--drop')
      target = over
    }
  }

  const finish = (ev: PointerEvent, cancelled: boolean): void => {
    handle.removeEventListener('pointermove', move)
    handle.removeEventListener('pointerup', up)
    handle.removeEventListener('pointercancel', cancel)
    note.classList.remove('note--dragging')
    note.style.transform = ''
    target?.element.classList.remove('lane--drop')
    if (!dragging || cancelled || !target) return
    const body = target.body.getBoundingClientRect()
    const scale = target.scale()
    const left = origin.left + ev.clientX - start.x
    const top = origin.top + ev.clientY - start.y
    onDrop({ lane: target.lane, x: (left - body.left) / scale, y: (top - body.top) / scale, pointerY: ev.clientY, onto: under(note, ev.clientX, ev.clientY) })
  }
  const up = (ev: PointerEvent): void => finish(ev, false)
  const cancel = (ev: PointerEvent): void => finish(ev, true)
  handle.addEventListener('pointermove', move)
  handle.addEventListener('pointerup', up)
  handle.addEventListener('pointercancel', cancel)
}

/** The note or group under the pointer, looking through the dragged element. */
function under (dragged: HTMLElement, x: number, y: number): Drop['onto'] {
  for (const el of document.elementsFromPoint(x, y)) {
    if (dragged.contains(el)) continue
    const hit = (el as HTMLElement).closest<HTMLElement>('[data-note-id], [data-group-id]')
    if (!hit || dragged.contains(hit)) continue
    return hit.dataset.noteId ? { note: hit.dataset.noteId } : { group: hit.dataset.groupId }
  }
  return {}
}

/** The lane under the pointer: by column on wide screens, by row when stacked. */
function laneAt (lanes: LaneView[], x: number, y: number, narrow: boolean): LaneView | undefined {
  let best: LaneView | undefined
  let bestDistance = Infinity
  for (const lane of lanes) {
    const r = lane.element.getBoundingClientRect()
    const d = narrow
      ? (y < r.top ? r.top - y : y > r.bottom ? y - r.bottom : 0)
      : (x < r.left ? r.left - x : x > r.right ? x - r.right : 0)
    if (d < bestDistance) { bestDistance = d; best = lane }
  }
  return best
}
