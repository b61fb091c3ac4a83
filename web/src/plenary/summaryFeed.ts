//! The live summary: one EventSource on /summary/live, the last Summary it carried,
//! and whether the feed is live or reconnecting.
import { withKey } from '../access'
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
      let summary: Summary
      try {
        summary = JSON.parse((e as MessageEvent<string>).data) as Summary
      } catch {
        return
      }
      this.summary = summary
      this.setStatus('live')
      this.onSummary(summary)
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

  private setStatus (status: FeedStatus): void {
    if (status === this.status) return
    this.status = status
    this.onStatus(status)
  }
}
