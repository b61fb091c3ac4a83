//! The poster image under the canvas. Its address carries the image's tag
//! from `control.posterImage` (written by the server on every upload), so
//! an open board loads a new poster the moment the facilitator uploads it.
import { withKey } from '../../access'
import { tp } from '../../i18nPoster'

export class PosterUnderlay {
  readonly element = document.createElement('img')
  private tag: string | null | undefined

  constructor (private readonly event: string) {
    this.element.className = 'poster__underlay'
    this.element.alt = tp('posterImage')
    this.element.draggable = false
  }

  /** Shows the poster named by `tag` (null: the one the server has, untagged). */
  show (tag: string | null): void {
    if (tag === this.tag) return
    this.tag = tag
    const path = `/api/events/${encodeURIComponent(this.event)}/poster${tag ? `?v=${encodeURIComponent(tag)}` : ''}`
    this.element.src = withKey(this.event, path)
  }
}
