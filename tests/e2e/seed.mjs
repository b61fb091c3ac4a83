// A stock Yjs client (yjs + y-websocket in Node) that writes notes into a
// table document exactly as docs/schema.md describes, to stage a busy board.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'

/**
 * Writes `notes` into `table`'s document; ids are `${prefix}NNNN${table}`. A note with
 * `posterX`/`posterY` is also placed on the poster; `poster.arrows` ([from, to] note
 * indexes) and `poster.markers` ({ kind, label, x, y }) add the poster's other items.
 */
export async function seedNotes (server, event, table, notes, prefix = 'seed', poster = { arrows: [], markers: [] }) {
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
      const id = `${prefix}${String(i).padStart(4, '0')}${table}`
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
      if (n.posterX !== undefined) { note.set('posterX', n.posterX); note.set('posterY', n.posterY) }
      map.set(id, note)
      ids.push(id)
    })
    poster.arrows.forEach(([from, to], i) => {
      const arrow = new Y.Map()
      for (const [k, v] of [['from', ids[from]], ['to', ids[to]], ['author', 'Seed'], ['createdAt', Date.now() + i]]) arrow.set(k, v)
      doc.getMap('posterArrows').set(`${prefix}arrow${i}${table}`, arrow)
    })
    poster.markers.forEach((m, i) => {
      const marker = new Y.Map()
      for (const [k, v] of [['kind', m.kind], ['label', m.label], ['x', m.x], ['y', m.y], ['author', 'Seed'], ['createdAt', Date.now() + i]]) marker.set(k, v)
      doc.getMap('posterMarkers').set(`${prefix}marker${i}${table}`, marker)
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

/**
 * Four busy tables for the plenary: table A's twelve notes from `busyTable` and plausible
 * notes at B, C and D, some sharing words across tables (beheer, afwegingskader,
 * gebiedsregisseur) so the plenary has shared themes to show, and a few long ones.
 */
export function busyTables () {
  const texts = {
    b: {
      goed: [
        ['Het afwegingskader maakt keuzes tussen functies bespreekbaar', 'groen', 'Gijs'],
        ['Casus Hengelo: ambitieweb per straat werkt', 'groen', 'Hanna'],
        ['Bewoners snappen de kaart met kansen en knelpunten', 'geel', 'Ivo'],
        ['Beheer zit aan tafel bij elke afweging', 'blauw', 'Joke'],
        ['Bestuurders vragen zelf om een afwegingskader', 'geel', 'Karim'],
      ],
      doorpakken: [
        ['Wie weegt af als belangen echt botsen: de raad, het college of de gebiedsregisseur?', 'oranje', 'Gijs'],
        ['Afwegingskader koppelen aan de begrotingscyclus, anders blijft het vrijblijvend', 'roze', 'Hanna'],
        ['Ondergrond meenemen in het afwegingskader', 'paars', 'Ivo'],
        ['Sociale waarden meetbaar maken', 'geel', 'Lotte'],
      ],
      vervolgstap: [
        ['Afwegingskader testen op twee cases voor de zomer', 'blauw', 'Joke'],
        ['Werkgroep met OT 1 over integrale afweging', 'blauw', 'Karim'],
        ['Handreiking voor raadsleden schrijven', 'groen', 'Lotte'],
      ],
    },
    c: {
      goed: [
        ['De gebiedsregisseur kent de wijk en de mensen', 'groen', 'Mehmet'],
        ['Eén aanspreekpunt voor bewoners en ondernemers', 'geel', 'Noor'],
        ['Korte lijnen met beheer en de netbeheerder', 'blauw', 'Olaf'],
      ],
      doorpakken: [
        ['Mandaat van de gebiedsregisseur is onduidelijk: mag die ook budget verschuiven tussen afdelingen?', 'oranje', 'Mehmet'],
        ['Gebiedsregisseur als rol of als functie?', 'roze', 'Noor'],
        ['Beheer en ontwikkeling werken nog langs elkaar', 'geel', 'Petra'],
        ['Opleiding en intervisie voor gebiedsregisseurs', 'paars', 'Quinten'],
        ['Data over de wijk delen tussen afdelingen', 'geel', 'Olaf'],
        ['Wie is eigenaar van het gebiedsprogramma?', 'oranje', 'Petra'],
      ],
      vervolgstap: [
        ['Rolbeschrijving gebiedsregisseur opstellen met drie gemeenten', 'blauw', 'Quinten'],
        ['Intervisie gebiedsregisseurs starten in september', 'blauw', 'Noor'],
        ['Mandaat voorleggen aan de gemeentesecretarissen', 'groen', 'Mehmet'],
        ['Leerkring met OT 3 integraal uitvoeren', 'blauw', 'Olaf'],
      ],
    },
    d: {
      goed: [
        ['Maatschappelijke kosten-baten analyse laat baten van groen zien', 'groen', 'Rosa'],
        ['Rekenmodel voor hittestress is beschikbaar', 'geel', 'Sem'],
      ],
      doorpakken: [
        ['Baten vallen bij andere partijen dan de kosten: wie betaalt?', 'oranje', 'Rosa'],
        ['Beheerkosten over de hele levensduur meenemen', 'roze', 'Tess'],
        ['Data over onderhoud is versnipperd', 'geel', 'Umar'],
        ['Kosten-baten analyse vroeg in het afwegingskader', 'paars', 'Sem'],
      ],
      vervolgstap: [
        ['Standaard voor kosten-baten analyse openbare ruimte', 'blauw', 'Tess'],
        ['Pilot met baathouders in één wijk', 'blauw', 'Umar'],
      ],
    },
  }
  const tables = { a: busyTable() }
  for (const [table, lanes] of Object.entries(texts)) {
    tables[table] = []
    for (const [lane, list] of Object.entries(lanes)) {
      list.forEach(([text, color, author], i) => {
        tables[table].push({ lane, text, color, author, x: i % 2 === 0 ? 12 : 180, y: 12 + Math.floor(i / 2) * 150 + (i % 2) * 24 })
      })
    }
  }
  return tables
}
