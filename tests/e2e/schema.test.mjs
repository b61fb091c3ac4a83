// The document's names on the TypeScript side (web/src/schema.ts, control.ts,
// groups.ts, poster.ts, market/standDoc.ts, lecture/lectureDoc.ts) and in the Node helper (tests/interop/schema-js.mjs) against
// shared/schema/schema.json, the fixture the Rust side is tested against too
// (shared/src/schema/fixture.rs). A name changed on one side only fails here
// or there.
//
// Keys are taken from what each side writes and reads on a real Y.Doc, not
// only from exported constants, so a key spelled out inline drifts visibly.
// No server or browser: the client's modules are bundled with the esbuild the
// web client builds with, with `yjs` left external so that they and this test
// share one Yjs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import * as Y from 'yjs'
import { repoRoot } from './support.mjs'
import * as js from '../interop/schema-js.mjs'

const fixture = JSON.parse(await readFile(join(repoRoot, 'shared/schema/schema.json'), 'utf8'))

/** web/src/schema.ts, control.ts, groups.ts, poster.ts, market/standDoc.ts, lecture/lectureDoc.ts and dayApi.ts as one ES module importing `yjs` from tests/node_modules. */
async function loadClientModules () {
  const esbuild = await import(pathToFileURL(join(repoRoot, 'web/node_modules/esbuild/lib/main.js')).href)
  const entry = [
    "export * as schema from './schema'",
    "export * as control from './control'",
    "export * as groups from './groups'",
    "export * as poster from './poster'",
    "export * as stand from './market/standDoc'",
    "export * as lecture from './lecture/lectureDoc'",
    "export * as dayApi from './dayApi'",
  ].join('\n')
  const out = await esbuild.build({
    stdin: { contents: entry, resolveDir: join(repoRoot, 'web/src'), loader: 'ts' },
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    external: ['yjs'],
    write: false,
    logLevel: 'silent',
  })
  // Written beside tests/node_modules so that its `import 'yjs'` finds the same Yjs as this test.
  const dir = join(repoRoot, 'tests/node_modules/.cache/werktafel')
  await mkdir(dir, { recursive: true })
  const file = join(dir, `client-schema-${process.pid}.mjs`)
  await writeFile(file, out.outputFiles[0].text)
  return import(pathToFileURL(file).href)
}

const client = await loadClientModules()

const sorted = (xs) => [...xs].sort()

test('the web client: lanes, colours, phases and schema version are the fixture\'s', () => {
  assert.deepEqual([...client.schema.LANES], fixture.lanes)
  assert.deepEqual([...client.schema.COLORS], fixture.colors)
  assert.deepEqual([...client.control.PHASES], fixture.phases)
  assert.equal(client.schema.SCHEMA_VERSION, fixture.schemaVersion)
})

test('the web client: its top-level names are the fixture\'s', () => {
  const doc = new Y.Doc()
  const _table = new client.schema.TableDoc(doc)
  client.control.readControl(doc)
  client.control.readVoteTotals(doc)
  const _groups = new client.groups.GroupsDoc(doc)
  const _poster = new client.poster.PosterDoc(doc)
  assert.deepEqual(sorted(doc.share.keys()), sorted(fixture.roots))
})

test('the web client writes and reads a note with the fixture\'s keys', () => {
  const doc = new Y.Doc()
  const table = new client.schema.TableDoc(doc)
  let id
  doc.transact(() => {
    id = table.createNote({ lane: fixture.lanes[2], color: fixture.colors[3], x: 10, y: 20, author: 'A', authorId: 'a', text: 'hi' })
  })
  const note = doc.getMap(fixture.roots[1]).get(id)
  assert.deepEqual(sorted(note.keys()), sorted(fixture.noteKeysOnCreate), 'keys of a new note')
  table.setNextStep(id, 'owner', 'Bo')
  table.setNextStep(id, 'due', 'vrijdag')
  table.setGroup(id, 'groupAAAAAAAAAAA')
  table.setPosterPosition(id, { x: 100, y: 200 })
  assert.deepEqual(sorted(note.keys()), sorted(fixture.noteKeys), 'keys of a note with a next step and a group')

  // A note written key by key from the fixture reads back whole.
  const other = new Y.Map()
  doc.getMap(fixture.roots[1]).set('otherNoteAAAAAAA', other)
  const values = { text: new Y.Text('t'), lane: 'doorpakken', color: 'paars', x: 1, y: 2, author: 'B', authorId: 'b', createdAt: 3, updatedAt: 4, owner: 'C', due: 'morgen', group: 'g1', posterX: 5, posterY: 6 }
  for (const key of fixture.noteKeys) other.set(key, values[key])
  const view = table.readNote('otherNoteAAAAAAA')
  // The poster position is read as one value, { x, y }.
  const read = { ...view, posterX: view.poster?.x, posterY: view.poster?.y }
  for (const key of fixture.noteKeys) {
    assert.equal(read[key], key === 'text' ? 't' : values[key], `note key ${key}`)
  }
})

test('the web client reads meta and control by the fixture\'s keys', () => {
  const doc = new Y.Doc()
  const meta = doc.getMap(fixture.roots[0])
  const given = {
    schemaVersion: fixture.schemaVersion,
    tableId: 'a',
    title: 'Tafel A',
    question: 'Vraag?',
    cluster: { id: 'c', title: 'C', question: 'Q' },
    cases: [{ name: 'N', city: 'S' }],
    teams: [{ number: 1, name: 'T', focus: ['f'] }],
  }
  for (const key of fixture.metaKeys) meta.set(key, given[key])
  const read = new client.schema.TableDoc(doc).readMeta()
  for (const key of fixture.metaKeys.filter(k => k !== 'schemaVersion')) {
    assert.deepEqual(read[key], given[key], `meta key ${key}`)
  }

  // Every value differs from DEFAULT_CONTROL, so a key read under another name shows.
  const control = doc.getMap(fixture.roots[2])
  const steering = {
    phase: fixture.phases[2],
    locked: true,
    timerEndsAt: 1000,
    privateWriting: true,
    revealedAt: 2000,
    voteBudget: 7,
    voteVisibility: fixture.voteVisibility[0],
    view: fixture.views[1],
    [fixture.controlPosterImageKey]: '0a1b2c3d',
  }
  const controlKeys = [...fixture.controlKeys, fixture.controlPosterImageKey]
  assert.deepEqual(sorted(Object.keys(steering)), sorted(controlKeys))
  for (const key of controlKeys) control.set(key, steering[key])
  assert.deepEqual(client.control.readControl(doc), steering)
  for (const [key, value] of Object.entries(client.control.DEFAULT_CONTROL)) {
    assert.notDeepEqual(steering[key], value, `the test's ${key} differs from the default`)
  }
})

test('the Node helper: names, and the keys it writes and reads, are the fixture\'s', () => {
  assert.deepEqual(js.LANES, fixture.lanes)
  assert.deepEqual(js.COLORS, fixture.colors)
  assert.deepEqual([js.META, js.NOTES], fixture.roots.slice(0, 2))
  assert.equal(js.SCHEMA_VERSION, fixture.schemaVersion)

  const doc = new Y.Doc()
  js.insertNote(doc, { id: 'noteAAAAAAAAAAAA', text: 'x', lane: 'goed', color: 'geel', x: 0, y: 0, author: 'A', authorId: 'a', nowMs: 5 })
  const note = doc.getMap(fixture.roots[1]).get('noteAAAAAAAAAAAA')
  assert.deepEqual(sorted(note.keys()), sorted(fixture.noteKeysOnCreate))
  const [read] = js.readNotes(doc)
  for (const key of fixture.noteKeysOnCreate) assert.ok(key in read, `readNotes returns ${key}`)

  const meta = doc.getMap(fixture.roots[0])
  meta.set('tableId', 'a'); meta.set('title', 'T'); meta.set('question', 'Q')
  meta.set('cluster', { id: 'c', title: 'C', question: 'Q' })
  meta.set('cases', [{ name: 'N', city: 'S' }])
  meta.set('teams', [{ number: 1, name: 'T', focus: [] }])
  meta.set('schemaVersion', fixture.schemaVersion)
  assert.deepEqual(sorted(meta.keys()), sorted(fixture.metaKeys))
  const m = js.readMeta(doc)
  assert.deepEqual(sorted(Object.keys(m)), sorted(fixture.metaKeys))
  assert.deepEqual([m.tableId, m.title, m.question, m.cluster.id, m.cases[0].city, m.teams[0].number], ['a', 'T', 'Q', 'c', 'S', 1])
})

test('the web client: poster arrows and markers by the fixture\'s keys, kinds and limits', () => {
  assert.deepEqual([...client.poster.VIEWS], fixture.views)
  assert.deepEqual([...client.poster.MARKER_KINDS], fixture.markerKinds)
  assert.deepEqual([client.schema.POSTER_WIDTH, client.schema.POSTER_HEIGHT], fixture.posterSize)
  assert.deepEqual(
    { arrows: client.poster.MAX_POSTER_ARROWS, markers: client.poster.MAX_POSTER_MARKERS, labelChars: client.poster.MAX_MARKER_LABEL_CHARS },
    fixture.posterLimits)
  const doc = new Y.Doc()
  const poster = new client.poster.PosterDoc(doc)
  const toNote = poster.addArrow('noteAAAAAAAAAAAA', { kind: 'note', id: 'noteBBBBBBBBBBBB' }, 'A')
  const toPoint = poster.addArrow('noteAAAAAAAAAAAA', { kind: 'point', x: 10, y: 20 }, 'A')
  const marker = poster.addMarker(fixture.markerKinds[1], 'x'.repeat(500), 30, 40, 'A')
  const arrows = doc.getMap(fixture.roots[6])
  const keys = new Set([...arrows.get(toNote).keys(), ...arrows.get(toPoint).keys()])
  assert.deepEqual(sorted(keys), sorted(fixture.posterArrowKeys))
  const m = doc.getMap(fixture.roots[7]).get(marker)
  assert.deepEqual(sorted(m.keys()), sorted(fixture.posterMarkerKeys))
  assert.equal(poster.allMarkers()[0].label.length, fixture.posterLimits.labelChars)
  // Both were made in the same millisecond, so their order is by (random) id: compare as a set.
  const ends = poster.allArrows().map(a => a.to).sort((a, b) => a.kind.localeCompare(b.kind))
  assert.deepEqual(ends, [{ kind: 'note', id: 'noteBBBBBBBBBBBB' }, { kind: 'point', x: 10, y: 20 }])
})

test('a version 1 client reads a version 2 document without trouble and its edits keep the poster', () => {
  // Written by the web client with poster items...
  const doc = new Y.Doc()
  const table = new client.schema.TableDoc(doc)
  const poster = new client.poster.PosterDoc(doc)
  let id
  doc.transact(() => {
    id = table.createNote({ lane: 'goed', color: 'geel', x: 0, y: 0, author: 'A', authorId: 'a', text: 'op de poster' })
    table.setPosterPosition(id, { x: 700, y: 300 })
    poster.addArrow(id, { kind: 'point', x: 900, y: 100 }, 'A')
    poster.addMarker('actor', 'Gebiedsregisseur', 800, 500, 'A')
  })
  // ...read and edited by a replica that knows only version 1 (the Node helper, and the
  // lane board's move: lane, x, y on the note map), synced both ways.
  const old = new Y.Doc()
  Y.applyUpdate(old, Y.encodeStateAsUpdate(doc))
  const notes = js.readNotes(old)
  assert.deepEqual(notes.map(n => [n.id, n.text, n.lane]), [[id, 'op de poster', 'goed']])
  old.transact(() => {
    const n = old.getMap(js.NOTES).get(id)
    n.set('lane', 'vervolgstap'); n.set('x', 40); n.set('y', 60)
  })
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(old))
  const after = table.readNote(id)
  assert.equal(after.lane, 'vervolgstap')
  assert.deepEqual(after.poster, { x: 700, y: 300 })
  assert.equal(poster.allArrows().length, 1)
  assert.deepEqual(poster.allMarkers().map(m => m.label), ['Gebiedsregisseur'])
})

test('the web client writes a stand\'s tips and links, and a note\'s provenance, with the fixture\'s keys', () => {
  const f = fixture.stand
  const doc = new Y.Doc()
  const stand = new client.stand.StandDoc(doc)
  assert.deepEqual([...client.stand.STAND_ROOTS], f.roots)
  assert.deepEqual([...client.stand.TIP_KINDS], f.tipKinds)
  assert.deepEqual(sorted(doc.share.keys()), sorted(f.roots))
  const tip = stand.addTip('vraag', 'Wie?', 'A', 'a')
  const link = stand.addLink('Site', 'https://example.org', 'A', 'a')
  assert.deepEqual(sorted(doc.getMap('tips').get(tip).keys()), sorted(f.tipKeys))
  assert.deepEqual(sorted(doc.getMap('materials').get(link).keys()), sorted(f.materialKeys))
  doc.getMap('votes').set(tip, 2)
  assert.deepEqual(stand.readTips().map(t => [t.kind, t.text, t.useful]), [['vraag', 'Wie?', 2]])
  assert.equal(client.stand.isWebLink('javascript:alert(1)'), false)

  // The Node helper writes a tip the client reads.
  js.insertTip(doc, { id: 'nodeTip1', kind: 'tip', text: 'Van node', author: 'N', authorId: 'n', nowMs: 5 })
  assert.deepEqual(sorted(doc.getMap('tips').get('nodeTip1').keys()), sorted(f.tipKeys))
  assert.ok(stand.readTips().some(t => t.id === 'nodeTip1' && t.text === 'Van node'))

  // A note brought in from a tip.
  const table = new client.schema.TableDoc(doc)
  let id
  doc.transact(() => {
    id = table.createNote({ lane: 'doorpakken', color: 'blauw', x: 0, y: 0, author: 'A', authorId: 'a', text: 't', provenance: { stand: 'markt-ot2', tip } })
  })
  const stored = doc.getMap(fixture.roots[1]).get(id).get(fixture.noteProvenance)
  assert.deepEqual(sorted(Object.keys(stored)), sorted(fixture.noteProvenanceKeys))
  assert.deepEqual(table.readNote(id).provenance, { stand: 'markt-ot2', tip })
  assert.equal(js.readNotes(doc).find(n => n.id === id).provenance?.tip, tip, 'the Node helper reads it too')
})

test('the web client: the lecture board\'s names, keys and limits are the fixture\'s', () => {
  const f = fixture.lecture
  assert.equal(client.lecture.LECTURE_ROOM, f.room)
  assert.deepEqual([...client.lecture.INSIGHT_KINDS], f.insightKinds)
  assert.equal(client.dayApi.MAX_INSIGHT_CHARS, f.limits.insightChars)
  const doc = new Y.Doc()
  const board = new client.lecture.LectureDoc(doc)
  assert.deepEqual(sorted(doc.share.keys()), sorted(f.roots))
  const id = board.add('x'.repeat(500), 'vraag', 'A', 'a')
  const written = doc.getMap('insights').get(id)
  assert.deepEqual(sorted(written.keys()), sorted(f.insightKeys), 'keys of a new insight')
  assert.equal(written.get('text').length, f.limits.insightChars, 'cut when written')
  // What the server writes, under the fixture's names, reads back.
  doc.getMap('votes').set(id, 3)
  doc.getMap('control').set(f.controlPinsKey, [id])
  const [read] = board.all()
  assert.deepEqual([read.kind, read.plusOnes, read.pinned], ['vraag', 3, 0])
})

// The closing document is written by the server alone and read by no sync connection; the
// web client sees next steps as JSON over HTTP (web/src/dayApi.ts). Its limits and follow-ups
// there are the document's, so they are checked against the Rust side's names too.
test('the web client: the next steps\' follow-ups and limits are the closing document\'s', () => {
  const f = fixture.closing
  assert.deepEqual([...client.dayApi.FOLLOW_UPS], f.followUps)
  assert.deepEqual(
    [client.dayApi.MAX_STEP_TEXT_CHARS, client.dayApi.MAX_STEP_OWNER_CHARS, client.dayApi.MAX_STEP_DUE_CHARS],
    [f.limits.textChars, f.limits.ownerChars, f.limits.dueChars])
})

// The lecture document's round trip: each side writes a document that is checked in, and the
// other side reads it (shared/src/schema/lecture_fixture.rs holds the Rust half and checks that
// its file is byte for byte what shared/src/lecture.rs writes now).
const BLESS = Boolean(process.env.WERKTAFEL_BLESS_SCHEMA)

test('Rust → web: the web client reads the lecture document shared/src/lecture.rs wrote', () => {
  const bytes = readFileSync(join(repoRoot, fixture.lecture.roundTrip.fromRust))
  const doc = new Y.Doc()
  Y.applyUpdate(doc, new Uint8Array(bytes))
  const items = new client.lecture.LectureDoc(doc).all()
  const view = items.map(i => ({ id: i.id, kind: i.kind, author: i.author, authorId: i.authorId, createdAt: i.createdAt, plusOnes: i.plusOnes, pinned: i.pinned }))
  assert.deepEqual(view, [
    // Pinned first.
    { id: 'rustInsight01', kind: 'inzicht', author: 'Rust', authorId: 'rust-dev', createdAt: 1000, plusOnes: 0, pinned: 0 },
    { id: 'rustQuestion01', kind: 'vraag', author: 'Rust', authorId: 'rust-dev', createdAt: 2000, plusOnes: 4, pinned: null },
  ])
  assert.equal(items[0].text, `Van Rust: ${'x'.repeat(300)}`.slice(0, fixture.lecture.limits.insightChars), 'a long text is cut at the limit')
  assert.equal(items[1].text, 'Wie betaalt het?')
})

test('web → Rust: the checked-in lecture document is what the web client writes', () => {
  // The texts and author shared/src/schema/lecture_fixture.rs expects.
  const doc = new Y.Doc()
  const board = new client.lecture.LectureDoc(doc)
  board.add('  Van het web: de straat is een verblijfsplek ', 'inzicht', 'Web', 'web-dev')
  board.add('Wie onderhoudt het groen?', 'vraag', 'Web', 'web-dev')
  const path = join(repoRoot, fixture.lecture.roundTrip.fromWeb)
  // Ids and times are the client's own (random, now), so a fresh write differs in bytes:
  // the checked-in one is compared by what it holds.
  if (BLESS) writeFileSync(path, Y.encodeStateAsUpdate(doc))
  const checkedIn = new Y.Doc()
  Y.applyUpdate(checkedIn, new Uint8Array(readFileSync(path)))
  const shape = d => {
    const reader = new client.lecture.LectureDoc(d)
    const entries = [...d.getMap('insights').values()]
    return {
      roots: sorted(d.share.keys()),
      keys: sorted(new Set(entries.flatMap(m => [...m.keys()]))),
      types: sorted(new Set(entries.flatMap(m => [...m.entries()].map(([k, v]) => `${k}:${typeof v}`)))),
      items: reader.all().map(i => [i.text, i.kind, i.author, i.authorId]).sort(),
    }
  }
  const fresh = shape(doc)
  assert.deepEqual(shape(checkedIn), fresh,
    `${fixture.lecture.roundTrip.fromWeb} is not what web/src/lecture/lectureDoc.ts writes now: run this test with WERKTAFEL_BLESS_SCHEMA=1, then cargo test -p werktafel-shared lecture_fixture`)
  assert.deepEqual(fresh.keys, sorted(fixture.lecture.insightKeys))
})
