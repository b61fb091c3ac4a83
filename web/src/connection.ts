//! One table's sync: the WebSocket provider to the server, the IndexedDB copy
//! that keeps offline edits, and the single ConnectionStatus the UI shows.
import { accessKey } from './access'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { IndexeddbPersistence } from 'y-indexeddb'
import type { Awareness } from 'y-protocols/awareness'

export type ConnectionStatus = 'connecting' | 'connected' | 'disconnected'

export interface ConnectionState {
  status: ConnectionStatus
  /** The server's state has been received since the last (re)connect. */
  synced: boolean
  /** The IndexedDB copy has been loaded into the document. */
  localLoaded: boolean
}

/** A room other than the table itself (a participant's drafts). */
export interface RoomOptions {
  /** Identity token, for rooms that belong to one participant. */
  token?: string
  /** Name of the IndexedDB copy, after `werktafel/{event}/`; the room name by default. */
  storeName?: string
}

export class Connection {
  readonly doc = new Y.Doc()
  readonly provider: WebsocketProvider
  readonly persistence: IndexeddbPersistence
  private state: ConnectionState = { status: 'connecting', synced: false, localLoaded: false }
  private readonly listeners = new Set<(s: ConnectionState) => void>()
  private readonly onOffline = (): void => this.dropSocket()
  private readonly onOnline = (): void => this.reconnectNow()

  constructor (readonly event: string, readonly table: string, options: RoomOptions = {}) {
    this.persistence = new IndexeddbPersistence(`werktafel/${event}/${options.storeName ?? table}`, this.doc)
    this.persistence.whenSynced.then(() => this.update({ localLoaded: true }), () => {})
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
    this.provider = new WebsocketProvider(`${scheme}//${location.host}/sync/${encodeURIComponent(event)}`, table, this.doc, {
      // Venue Wi-Fi comes back in seconds; do not let back-off grow past that.
      maxBackoffTime: 4000,
      params: { key: accessKey(event), ...(options.token ? { token: options.token } : {}) },
    })
    this.provider.on('status', ({ status }: { status: ConnectionStatus }) => {
      this.update({ status, synced: status === 'connected' ? this.provider.synced : false })
    })
    this.provider.on('sync', (synced: boolean) => this.update({ synced }))
    // A dropped Wi-Fi does not always close an open WebSocket (the OS keeps the
    // TCP connection half-open until a timeout), so the browser's offline event
    // closes it at once; the provider then retries with back-off.
    window.addEventListener('offline', this.onOffline)
    window.addEventListener('online', this.onOnline)
  }

  get awareness (): Awareness {
    return this.provider.awareness
  }

  get current (): ConnectionState {
    return this.state
  }

  onChange (fn: (s: ConnectionState) => void): () => void {
    this.listeners.add(fn)
    fn(this.state)
    return () => this.listeners.delete(fn)
  }

  /** Stops syncing with the server; edits keep going to IndexedDB. */
  disconnect (): void {
    this.provider.disconnect()
  }

  connect (): void {
    this.provider.connect()
  }

  /** Resolves once every update made so far has been written to IndexedDB. */
  async whenStored (): Promise<void> {
    const db = this.persistence.db
    if (!db) {
      await this.persistence.whenSynced
      return this.whenStored()
    }
    // IndexedDB runs transactions on the same store in order, so a read that
    // starts now completes after every write y-indexeddb has queued before it.
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction(['updates'], 'readonly')
      tx.objectStore('updates').count()
      tx.oncomplete = () => resolve()
      tx.onerror = () => reject(tx.error)
    })
  }

  destroy (): void {
    window.removeEventListener('offline', this.onOffline)
    window.removeEventListener('online', this.onOnline)
    this.provider.destroy()
    void this.persistence.destroy()
    this.doc.destroy()
    this.listeners.clear()
  }

  private dropSocket (): void {
    this.provider.ws?.close()
  }

  private reconnectNow (): void {
    if (!this.provider.shouldConnect || this.provider.wsconnected) return
    // Reconnect at once instead of waiting out the back-off.
    this.provider.disconnect()
    this.provider.connect()
  }

  private update (patch: Partial<ConnectionState>): void {
    this.state = { ...this.state, ...patch }
    for (const fn of this.listeners) fn(this.state)
  }
}
