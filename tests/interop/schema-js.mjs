// The table document (docs/schema.md, version 1) read and written with the
// plain Yjs API: the JavaScript twin of shared/src/schema.rs that the stock
// interop peer uses.
//
// Readers are lenient like the Rust ones (unknown lane → "goed", unknown
// colour → "geel", wrong types → defaults) and sort notes the same way, so the
// peer's JSON can be compared field for field with `schema::read_notes`.
// Writers write exactly the keys and types the schema lists.
//
// Its names (roots, keys, lanes, colours) are tested against
// shared/schema/schema.json, as the Rust and TypeScript sides are
// (tests/e2e/schema.test.mjs).

import * as Y from 'yjs'

export const META = 'meta'
export const NOTES = 'notes'
export const SCHEMA_VERSION = 1

/** Lanes in display order; the order is also the sort order of `readNotes`. */
export const LANES = ['goed', 'doorpakken', 'vervolgstap']
export const COLORS = ['geel', 'roze', 'blauw', 'groen', 'oranje', 'paars']

/**
 * Writes `notes[draft.id]` as a Y.Map with a Y.Text for the text, in one
 * transaction (one update on the wire), replacing a note with the same id.
 *
 * @param {Y.Doc} doc
 * @param {{id: string, text: string, lane: string, color: string, x: number, y: number,
 *          author: string, authorId: string, nowMs: number}} draft
 */
export function insertNote (doc, draft) {
  doc.transact(() => {
    const note = new Y.Map()
    doc.getMap(NOTES).set(draft.id, note)
    // Keys are set after the map is integrated, as the web client does when a
    // note is created on the board.
    note.set('text', new Y.Text(draft.text))
    note.set('lane', draft.lane)
    note.set('color', draft.color)
    note.set('x', draft.x)
    note.set('y', draft.y)
    note.set('author', draft.author)
    note.set('authorId', draft.authorId)
    note.set('createdAt', draft.nowMs)
    note.set('updatedAt', draft.nowMs)
  })
}

/**
 * Inserts `s` at `index` into the text of note `id` and stamps `updatedAt`,
 * one transaction per call (a keystroke). Returns false if there is no such note.
 *
 * @param {Y.Doc} doc
 * @param {string} id
 * @param {number} index
 * @param {string} s
 * @param {number} nowMs
 */
export function typeInto (doc, id, index, s, nowMs) {
  const note = doc.getMap(NOTES).get(id)
  if (!(note instanceof Y.Map)) return false
  const text = note.get('text')
  if (!(text instanceof Y.Text)) return false
  doc.transact(() => {
    text.insert(Math.min(index, text.length), s)
    note.set('updatedAt', nowMs)
  })
  return true
}

/** Deletes `notes[id]`; returns whether there was such a note. */
export function deleteNote (doc, id) {
  const notes = doc.getMap(NOTES)
  if (!notes.has(id)) return false
  notes.delete(id)
  return true
}

/**
 * All notes as plain objects, sorted by lane, then y, x and id (as Rust's
 * `read_notes` sorts). Entries of `notes` that are not maps are skipped.
 *
 * @param {Y.Doc} doc
 */
export function readNotes (doc) {
  const notes = []
  doc.getMap(NOTES).forEach((value, id) => {
    if (value instanceof Y.Map) notes.push(readNote(id, value))
  })
  notes.sort((a, b) =>
    LANES.indexOf(a.lane) - LANES.indexOf(b.lane) ||
    a.y - b.y ||
    a.x - b.x ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  return notes
}

/**
 * `meta` as a plain object, or null until the server has written it (its
 * `schemaVersion` marks it complete).
 *
 * @param {Y.Doc} doc
 */
export function readMeta (doc) {
  const meta = doc.getMap(META)
  const version = meta.get('schemaVersion')
  if (typeof version !== 'number') return null
  const obj = (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v : {})
  const arr = (v) => (Array.isArray(v) ? v : [])
  const cluster = obj(meta.get('cluster'))
  return {
    schemaVersion: version,
    tableId: str(meta.get('tableId')),
    title: str(meta.get('title')),
    question: str(meta.get('question')),
    cluster: { id: str(cluster.id), title: str(cluster.title), question: str(cluster.question) },
    cases: arr(meta.get('cases')).filter(isObject).map((c) => ({ name: str(c.name), city: str(c.city) })),
    teams: arr(meta.get('teams'))
      .filter((t) => isObject(t) && Number.isInteger(t.number) && t.number >= 0)
      .map((t) => ({ number: t.number, name: str(t.name), focus: arr(t.focus).map(str) }))
  }
}

function readNote (id, map) {
  const string = (key) => {
    const v = map.get(key)
    return v instanceof Y.Text ? v.toString() : str(v)
  }
  const number = (key) => {
    const v = map.get(key)
    return typeof v === 'number' && Number.isFinite(v) ? v : 0
  }
  const lane = string('lane')
  const color = string('color')
  // A market tip's link, only when it is one (`{ stand, tip }`), as the Rust reader.
  const from = map.get('provenance')
  const provenance = isObject(from) && str(from.stand) && str(from.tip) ? { provenance: { stand: from.stand, tip: from.tip } } : {}
  return {
    ...provenance,
    id,
    text: string('text'),
    lane: LANES.includes(lane) ? lane : 'goed',
    color: COLORS.includes(color) ? color : 'geel',
    x: number('x'),
    y: number('y'),
    author: string('author'),
    authorId: string('authorId'),
    createdAt: Math.round(number('createdAt')),
    updatedAt: Math.round(number('updatedAt'))
  }
}

function str (v) {
  return typeof v === 'string' ? v : ''
}

function isObject (v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/**
 * Writes a market stand's tip (docs/schema.md, "The stand document") as the
 * web client does: `tips[draft.id]` with kind, text, author, authorId, createdAt.
 *
 * @param {Y.Doc} doc
 * @param {{id: string, kind: 'tip'|'vraag', text: string, author: string, authorId: string, nowMs: number}} draft
 */
export function insertTip (doc, draft) {
  doc.transact(() => {
    const tip = new Y.Map()
    doc.getMap('tips').set(draft.id, tip)
    tip.set('kind', draft.kind)
    tip.set('text', draft.text)
    tip.set('author', draft.author)
    tip.set('authorId', draft.authorId)
    tip.set('createdAt', draft.nowMs)
  })
}
