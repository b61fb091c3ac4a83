//! The rest of the day's API as typed fetches: the closing feedback's next steps
//! (the facilitator's), and the lecture board's +1s and pins.
import { withKey } from './access'
import { call } from './facilitation'

export type FollowUp = 'werksessie' | 'zomertour' | 'anders'
export const FOLLOW_UPS: readonly FollowUp[] = ['werksessie', 'zomertour', 'anders']

export type StepSource =
  | { kind: 'table'; id: string }
  | { kind: 'stand'; team: number }
  | { kind: 'lecture'; insight: string }

export interface ClosingStep {
  id: string
  text: string
  owner: string
  due: string
  source: StepSource | null
  followUp: FollowUp
  createdAt: number
  updatedAt: number
}

export interface StepInput {
  text?: string
  owner?: string
  due?: string
  source?: StepSource | null
  followUp?: FollowUp
}

/** The server's limits (shared/src/closing.rs), so the form stops where the server would refuse. */
export const MAX_STEP_TEXT_CHARS = 500
export const MAX_STEP_OWNER_CHARS = 120
export const MAX_STEP_DUE_CHARS = 80
/** The lecture board's line (shared/src/lecture.rs). */
export const MAX_INSIGHT_CHARS = 280

const base = (event: string): string => `/api/events/${encodeURIComponent(event)}`

export async function addStep (event: string, input: StepInput): Promise<ClosingStep> {
  return await call<ClosingStep>(withKey(event, `${base(event)}/next-steps`), { method: 'POST', body: JSON.stringify(input) })
}

export async function updateStep (event: string, id: string, change: StepInput): Promise<ClosingStep> {
  const path = `${base(event)}/next-steps/${encodeURIComponent(id)}`
  return await call<ClosingStep>(withKey(event, path), { method: 'PATCH', body: JSON.stringify(change) })
}

export async function removeStep (event: string, id: string): Promise<void> {
  await call<void>(withKey(event, `${base(event)}/next-steps/${encodeURIComponent(id)}`), { method: 'DELETE' })
}

export async function reorderSteps (event: string, ids: string[]): Promise<void> {
  await call<unknown>(withKey(event, `${base(event)}/next-steps/order`), { method: 'PUT', body: JSON.stringify({ ids }) })
}

export async function myPlusOnes (event: string, token: string): Promise<string[]> {
  const path = `${base(event)}/zaal/plus-ones?token=${encodeURIComponent(token)}`
  return (await call<{ mine: string[] }>(withKey(event, path), {})).mine
}

export async function plusOne (event: string, token: string, insightId: string, delta: 1 | -1): Promise<string[]> {
  const body = JSON.stringify({ token, insightId, delta })
  return (await call<{ mine: string[] }>(withKey(event, `${base(event)}/zaal/plus-ones`), { method: 'POST', body })).mine
}

export async function pinInsight (event: string, insightId: string, pinned: boolean): Promise<string[]> {
  const body = JSON.stringify({ insightId, pinned })
  return (await call<{ pins: string[] }>(withKey(event, `${base(event)}/zaal/pins`), { method: 'POST', body })).pins
}
