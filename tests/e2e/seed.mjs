// A stock Yjs client (yjs + y-websocket in Node) that writes notes into a
// table document exactly as docs/schema.md describes, to stage a busy board.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

export async function seedNotes (server, event, table, notes) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(server.url.replace(/^http/, 'ws') + '/sync/' + event, table, doc,
    { WebSocketPolyfill: WebSocket, disableBc: true, params: { key: server.keys.join } })
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`seed client did not sync with ${server.url} (log: ${server.logPath})`)), 15_000)
    provider.once('sync', synced => { if (synced) { clearTimeout(timer); resolve() } })
  })
  const ids = []
  doc.transact(() => {
    const map = doc.getMap('notes')
    notes.forEach((n, i) => {
      const id = `seed${String(i).padStart(4, '0')}${table}`
      const note = new Y.Map()
      note.set('text', new Y.Text(n.text))
      note.set('lane', n.lane)
      note.set('color', n.color)
      note.set('x', n.x)
      note.set('y', n.y)
      note.set('author', n.author)
      note.set('authorId', 'seedclient' + n.author.toLowerCase())
      note.set('createdAt', Date.now())
      note.set('updatedAt', Date.now())
      map.set(id, note)
      ids.push(id)
    })
  })
  return {
    ids,
    close () {
      // The provider leaves its Awareness (and that one's interval timer) alive,
      // which would keep the test process from exiting.
      provider.awareness.destroy()
      provider.destroy()
      doc.destroy()
    },
  }
}

/** Twelve plausible notes for table A, laid out in two columns per lane. */
export function busyTable () {
  const texts = {
    goed: [
      ['Gedeelde kansenkaart van boven- en ondergrond werkt als gespreksstarter', 'groen', 'Anna'],
      ['Beheerders zitten vanaf het begin aan tafel', 'groen', 'Bram'],
      ['Hitte- en waterkaarten liggen er al per wijk', 'geel', 'Carla'],
      ['Laakhavens: korte lijnen met de netbeheerder', 'blauw', 'Dirk'],
    ],
    doorpakken: [
      ['Wie neemt de beslissing in het tactische gat tussen visie en uitvoering?', 'oranje', 'Anna'],
      ['Vervangingsopgave riool koppelen aan vergroening', 'geel', 'Eva'],
      ['Budgetten van beheer en ontwikkeling bundelen', 'roze', 'Bram'],
      ['Eén afwegingskader voor alle vitale systemen', 'paars', 'Fatima'],
      ['Data over kabels en leidingen actueel houden', 'geel', 'Carla'],
    ],
    vervolgstap: [
      ['Werksessie met OT 2 en OT 6 in juni plannen', 'blauw', 'Dirk'],
      ['Routeboek systeemaanpak opstellen', 'blauw', 'Eva'],
      ['Casus Stadsboulevards als pilot voor de programmeertafel', 'groen', 'Fatima'],
    ],
  }
  const notes = []
  for (const [lane, list] of Object.entries(texts)) {
    list.forEach(([text, color, author], i) => {
      notes.push({ lane, text, color, author, x: i % 2 === 0 ? 12 : 180, y: 12 + Math.floor(i / 2) * 150 + (i % 2) * 24 })
    })
  }
  return notes
}
