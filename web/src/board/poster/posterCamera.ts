//! Zoom and pan of the poster: the canvas (poster units) is moved and scaled
//! inside its viewport with one CSS transform. Mouse wheel zooms around the
//! pointer, two fingers pinch, a drag on the empty poster pans, and the
//! focused viewport takes arrow keys (pan), + and − (zoom) and 0 (whole poster).
import { POSTER_HEIGHT, POSTER_WIDTH } from '../../schema'

const MIN_ZOOM = 0.2
const MAX_ZOOM = 4
/** Zoom factor per button press or key press. */
const ZOOM_STEP = 1.25
/** Screen pixels the viewport pans per arrow key press. */
const PAN_STEP = 60

export class PosterCamera {
  zoom = 1
  x = 0
  y = 0
  private readonly pointers = new Map<number, { x: number, y: number }>()
  private pinch: { distance: number, zoom: number } | null = null
  /** Whether the whole poster is shown and should stay so when the viewport resizes. */
  private fitting = true
  private readonly resize = new ResizeObserver(() => { if (this.fitting) this.fit() })

  constructor (private readonly viewport: HTMLElement, private readonly canvas: HTMLElement, private readonly changed: () => void) {
    viewport.addEventListener('wheel', e => {
      e.preventDefault()
      const r = viewport.getBoundingClientRect()
      this.zoomAt(Math.exp(-e.deltaY / 400), e.clientX - r.left, e.clientY - r.top)
    }, { passive: false })
    viewport.addEventListener('pointerdown', e => this.down(e))
    viewport.addEventListener('pointermove', e => this.moveTo(e))
    const up = (e: PointerEvent): void => { this.pointers.delete(e.pointerId); if (this.pointers.size < 2) this.pinch = null }
    viewport.addEventListener('pointerup', up)
    viewport.addEventListener('pointercancel', up)
    viewport.addEventListener('keydown', e => this.key(e))
    this.resize.observe(viewport)
  }

  destroy (): void { this.resize.disconnect() }

  /** Poster units under a point of the screen. */
  toPoster (clientX: number, clientY: number): { x: number, y: number } {
    const r = this.viewport.getBoundingClientRect()
    return { x: (clientX - r.left - this.x) / this.zoom, y: (clientY - r.top - this.y) / this.zoom }
  }

  /** The poster point in the middle of what is shown. */
  centre (): { x: number, y: number } {
    const r = this.viewport.getBoundingClientRect()
    return this.toPoster(r.left + r.width / 2, r.top + r.height / 2)
  }

  /** Shows the whole poster, and keeps it whole as the viewport resizes until zoomed or panned. */
  fit (): void {
    this.fitting = true
    const r = this.viewport.getBoundingClientRect()
    if (r.width === 0 || r.height === 0) return
    this.zoom = clampZoom(Math.min(r.width / POSTER_WIDTH, r.height / POSTER_HEIGHT))
    this.x = (r.width - POSTER_WIDTH * this.zoom) / 2
    this.y = (r.height - POSTER_HEIGHT * this.zoom) / 2
    this.apply()
  }

  /** Zooms by `factor` around a viewport point (its centre by default). */
  zoomAt (factor: number, vx?: number, vy?: number): void {
    const r = this.viewport.getBoundingClientRect()
    const px = vx ?? r.width / 2
    const py = vy ?? r.height / 2
    this.fitting = false
    const next = clampZoom(this.zoom * factor)
    this.x = px - (px - this.x) * (next / this.zoom)
    this.y = py - (py - this.y) * (next / this.zoom)
    this.zoom = next
    this.apply()
  }

  zoomIn (): void { this.zoomAt(ZOOM_STEP) }
  zoomOut (): void { this.zoomAt(1 / ZOOM_STEP) }

  private apply (): void {
    this.canvas.style.transform = `translate(${this.x}px, ${this.y}px) scale(${this.zoom})`
    this.viewport.dataset.zoom = this.zoom.toFixed(2)
    this.changed()
  }

  private down (e: PointerEvent): void {
    this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY })
    if (this.pointers.size === 2) {
      const [a, b] = [...this.pointers.values()]
      this.pinch = { distance: Math.hypot(a.x - b.x, a.y - b.y), zoom: this.zoom }
    }
    // Only a press on the poster itself pans; notes and markers have their own drag.
    const onItem = (e.target as HTMLElement).closest('.poster-note, .poster-marker, .poster-arrow-remove')
    if (!onItem && e.button === 0) this.viewport.setPointerCapture?.(e.pointerId)
  }

  private moveTo (e: PointerEvent): void {
    const last = this.pointers.get(e.pointerId)
    if (!last || !this.viewport.hasPointerCapture?.(e.pointerId)) {
      if (last) this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY })
      return
    }
    this.pointers.set(e.pointerId, { x: e.clientX, y: e.clientY })
    if (this.pinch && this.pointers.size === 2) {
      const [a, b] = [...this.pointers.values()]
      const r = this.viewport.getBoundingClientRect()
      const factor = (this.pinch.zoom * Math.hypot(a.x - b.x, a.y - b.y) / this.pinch.distance) / this.zoom
      this.zoomAt(factor, (a.x + b.x) / 2 - r.left, (a.y + b.y) / 2 - r.top)
      return
    }
    this.fitting = false
    this.x += e.clientX - last.x
    this.y += e.clientY - last.y
    this.apply()
  }

  private key (e: KeyboardEvent): void {
    if (e.target !== this.viewport) return
    const pan: Record<string, [number, number]> = { ArrowLeft: [PAN_STEP, 0], ArrowRight: [-PAN_STEP, 0], ArrowUp: [0, PAN_STEP], ArrowDown: [0, -PAN_STEP] }
    if (pan[e.key]) {
      this.fitting = false
      this.x += pan[e.key][0]
      this.y += pan[e.key][1]
      this.apply()
    } else if (e.key === '+' || e.key === '=') this.zoomIn()
    else if (e.key === '-') this.zoomOut()
    else if (e.key === '0') this.fit()
    else return
    e.preventDefault()
  }
}

function clampZoom (z: number): number {
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, z))
}
