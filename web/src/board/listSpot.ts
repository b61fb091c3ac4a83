//! Where a note dropped on a narrow screen goes: notes there flow as a list
//! in (y, x) order, so a drop picks a position between the notes above and
//! below the pointer rather than pixels.
import type { NoteElement } from './note'

export function listSpot (others: NoteElement[], pointerY: number): { x: number; y: number } {
  const sorted = [...others].sort((a, b) => a.view.y - b.view.y || a.view.x - b.view.x)
  const above = sorted.filter(n => {
    const r = n.element.getBoundingClientRect()
    return r.top + r.height / 2 < pointerY
  })
  const before = above[above.length - 1]?.view
  const after = sorted[above.length]?.view
  if (before && after) return after.y - before.y >= 2 ? { x: before.x, y: (before.y + after.y) / 2 } : { x: before.x + 1, y: before.y }
  if (before) return { x: 12, y: before.y + 150 }
  if (after) return { x: 0, y: Math.max(0, after.y - 150) }
  return { x: 12, y: 12 }
}
