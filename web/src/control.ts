//! The TypeScript side of `control` and `votes` in docs/schema.md: how a
//! table is being run and the published vote totals. Both maps are written
//! by the server only; this module reads them and never writes.
import * as Y from 'yjs'

export const PHASES = ['schrijven', 'clusteren', 'stemmen', 'vervolgstappen', 'gesloten'] as const
export type Phase = (typeof PHASES)[number]
export type VoteVisibility = 'always' | 'after'

export interface Control {
  phase: Phase
  locked: boolean
  /** When the countdown ends (ms since the epoch), or null. */
  timerEndsAt: number | null
  privateWriting: boolean
  revealedAt: number | null
  voteBudget: number
  voteVisibility: VoteVisibility
  /** Lanes or poster as the facilitator chose; null: the event file's default for the table. */
  view: 'lanes' | 'poster' | null
  /** The poster image's tag, bumped by the server on every upload; null: never uploaded since. */
  posterImage: string | null
}

/** A table with no `control` map: schrijven, unlocked, budget 3, counts after voting. */
export const DEFAULT_CONTROL: Control = {
  phase: 'schrijven',
  locked: false,
  timerEndsAt: null,
  privateWriting: false,
  revealedAt: null,
  voteBudget: 3,
  voteVisibility: 'after',
  view: null,
  posterImage: null,
}

export function readControl (doc: Y.Doc): Control {
  const m = doc.getMap('control')
  const phase = m.get('phase')
  const budget = m.get('voteBudget')
  return {
    phase: isPhase(phase) ? phase : DEFAULT_CONTROL.phase,
    locked: m.get('locked') === true,
    timerEndsAt: time(m.get('timerEndsAt')),
    privateWriting: m.get('privateWriting') === true,
    revealedAt: time(m.get('revealedAt')),
    voteBudget: typeof budget === 'number' && budget > 0 ? budget : DEFAULT_CONTROL.voteBudget,
    voteVisibility: m.get('voteVisibility') === 'always' ? 'always' : 'after',
    view: m.get('view') === 'poster' || m.get('view') === 'lanes' ? m.get('view') as 'lanes' | 'poster' : null,
    posterImage: typeof m.get('posterImage') === 'string' ? m.get('posterImage') as string : null,
  }
}

/** Published vote totals: note id → votes (empty while counts are hidden). */
export function readVoteTotals (doc: Y.Doc): Map<string, number> {
  const totals = new Map<string, number>()
  for (const [id, n] of doc.getMap('votes').entries()) {
    if (typeof n === 'number' && n > 0) totals.set(id, n)
  }
  return totals
}

/** Calls `fn` whenever `control` or `votes` change; returns the unsubscribe. */
export function observeControl (doc: Y.Doc, fn: () => void): () => void {
  const control = doc.getMap('control')
  const votes = doc.getMap('votes')
  control.observe(fn)
  votes.observe(fn)
  return () => { control.unobserve(fn); votes.unobserve(fn) }
}

/** Whether participants may change the table's content now. */
export function acceptsWrites (c: Control): boolean {
  return !c.locked && c.phase !== 'gesloten'
}

export function isPhase (v: unknown): v is Phase {
  return typeof v === 'string' && (PHASES as readonly string[]).includes(v)
}

export function nextPhase (p: Phase): Phase | null {
  return PHASES[PHASES.indexOf(p) + 1] ?? null
}

function time (v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}
