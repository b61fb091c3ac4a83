//! The tips of a few market stands, live: one sync connection per stand
//! (room `markt-ot{n}`, the same provider and IndexedDB copy the stand page
//! uses), only read. The board's "Uit de markt" panel keeps one per linked
//! team — two for most tables — instead of polling the market overview.
//! Nothing is ever written to a stand from here, and no presence is sent.
import { Connection } from '../connection'
import { standRoom, type Tip } from './marketApi'
import { StandDoc } from './standDoc'

/** A tip with the stand it was left at. */
export type StandTip = Tip & { room: string; team: number }

interface Subscription { connection: Connection; doc: StandDoc; off: () => void }

export class StandFeed {
  private readonly stands = new Map<number, Subscription>()

  /** `changed` runs whenever a followed stand's tips or useful marks change. */
  constructor (private readonly event: string, private readonly changed: () => void) {}

  /** Follows exactly the stands of `teams` (opens the new ones, closes the rest). */
  follow (teams: number[]): void {
    const wanted = new Set(teams)
    for (const [n, sub] of this.stands) {
      if (wanted.has(n)) continue
      this.close(sub)
      this.stands.delete(n)
    }
    for (const n of wanted) {
      if (this.stands.has(n)) continue
      const connection = new Connection(this.event, standRoom(n))
      // A reader: nobody needs to see this board among the stand's visitors.
      connection.awareness.setLocalState(null)
      const doc = new StandDoc(connection.doc)
      const fn = (): void => this.changed()
      doc.tips.observeDeep(fn)
      doc.votes.observe(fn)
      this.stands.set(n, { connection, doc, off: () => { doc.tips.unobserveDeep(fn); doc.votes.unobserve(fn) } })
    }
    this.changed()
  }

  /** Every followed stand's tips, most useful first, then newest. */
  tips (): StandTip[] {
    return [...this.stands].flatMap(([n, { doc }]) => doc.readTips().map(t => ({ ...t, room: standRoom(n), team: n })))
      .sort((a, b) => b.useful - a.useful || b.createdAt - a.createdAt)
  }

  /** How many stand connections are open (for the test hook). */
  get connections (): number {
    return this.stands.size
  }

  destroy (): void {
    for (const sub of this.stands.values()) this.close(sub)
    this.stands.clear()
  }

  private close (sub: Subscription): void {
    sub.off()
    sub.connection.destroy()
  }
}
