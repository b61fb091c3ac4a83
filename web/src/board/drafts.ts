//! A participant's private drafts of one table (`{table}.drafts`, opened with
//! their identity token): the same notes shape as the table, in a document
//! nobody else can open, until the facilitator reveals them onto the table.
import { Connection } from '../connection'
import type { Identity } from '../identity'
import { TableDoc } from '../schema'

export class Drafts {
  readonly connection: Connection
  readonly table: TableDoc

  constructor (event: string, tableId: string, me: Identity) {
    this.connection = new Connection(event, `${tableId}.drafts`, { token: me.token, storeName: `${tableId}.drafts/${me.id}` })
    this.table = new TableDoc(this.connection.doc)
  }

  /** Whether a draft written now is kept: the server's copy or the local one has loaded. */
  get ready (): boolean {
    const s = this.connection.current
    return s.synced || s.localLoaded
  }

  destroy (): void {
    this.connection.destroy()
  }
}
