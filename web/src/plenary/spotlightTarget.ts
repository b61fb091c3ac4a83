//! What the spotlight can show: a whole table or one of its notes.

export type SpotlightTarget =
  | { kind: 'table'; table: string }
  | { kind: 'note'; table: string; note: string }

/** Opens the spotlight on `target`; `opener` gets focus back when it closes. */
export type OpenSpotlight = (target: SpotlightTarget, opener: HTMLElement) => void
