//! The live summary: one EventSource on /summary/live, the Summary it adds up to,
//! and whether the feed is live or reconnecting. The server sends the whole summary
//! (`summary`) on connect and now and then, and otherwise what changed (`delta`, a
//! JSON Patch from the version before; the event id is the version). A delta that
//! does not follow the version held (or does not apply) reopens the feed, which
//! starts with the whole summary again.
import { withKey } from '../access'
import { applyPatch, type Op } from './jsonPatch'
import type { Summary } from './summary'

export type FeedStatus = 'connecting' | 'live' | 'reconnecting'

/** How long to wait before reopening a feed the browser gave up on (a 503 while the server starts). */
const REOPEN_MS = 2_000

export class SummaryFeed {
  private source: EventSource | null = null
  private timer: number | undefined
  private closed = false
  status: FeedStatus = 'connecting'
  summary: Summary | null = null
  /** The version `summary` is at (the id of the event that brought it). */
  private version = -1

  constructor (
    private readonly event: string,
    private readonly onSummary: (s: Summary) => void,
    private readonly onStatus: (s: FeedStatus) => void,
  ) {
    this.open()
  }

  close (): void {
    this.closed = true
    window.clearTimeout(this.timer)
    this.source?.close()
  }

  private open (): void {
    const source = new EventSource(withKey(this.event, `/api/events/${encodeURIComponent(this.event)}/summary/live`))
    this.source = source
    source.addEventListener('summary', e => {
      const event = e as MessageEvent<string>
      let summary: Summary
      try {
        summary = JSON.parse(event.data) as Summary
      } catch {
        return
      }
      this.version = Number(event.lastEventId)
      this.show(summary)
    })
    source.addEventListener('delta', e => {
      const event = e as MessageEvent<string>
      const version = Number(event.lastEventId)
      let patched: Summary | null = null
      if (this.summary !== null && version === this.version + 1) {
        try {
          patched = applyPatch(this.summary, JSON.parse(event.data) as Op[]) as Summary | null
        } catch {
          patched = null
        }
      }
      if (patched === null) {
        // A version missed, or a patch that does not fit what we hold: start
        // over from a whole summary.
        this.summary = null
        this.version = -1
        source.close()
        this.open()
        return
      }
      this.version = version
      this.show(patched)
    })
    source.addEventListener('error', () => {
      if (this.closed) return
      this.setStatus('reconnecting')
      // EventSource retries by itself after a dropped stream, but not after an
      // error status (e.g. 503 while the summary starts): then it is CLOSED.
      if (source.readyState === EventSource.CLOSED) {
        this.timer = window.setTimeout(() => this.open(), REOPEN_MS)
      }
    })
  }

  private show (summary: Summary): void {
    this.summary = summary
    this.setStatus('live')
    this.onSummary(summary)
  }

  private setStatus (status: FeedStatus): void {
    if (status === this.status) return
    this.status = status
    this.onStatus(status)
  }
}
