// Accessibility, on every page: axe-core runs on each page the client routes to
// (start, table boards in each phase with notes, a group and an arrow, the name
// prompt, the plenary and its spotlight, the facilitator console, a not-found
// page, a board in the poster view with notes, an actor and an arrow, a
// locked board with a private draft; start and board also in English)
// at a 1280×800 laptop and a 390×844 phone, and finds no serious or critical
// violation. Each page is also written to artifacts/a11y-*.png for a person to
// look at (contrast fixes must keep the design readable).
//
// Adding a page is one line in PAGES: a name, the path, the key and the hook
// signal that says the page has rendered what it shows.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import { actor, closeWorld, newNoteWithText, openWorld, waitFor } from './support.mjs'
import { busyTables, seedNotes } from './seed.mjs'

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js')
const VIEWPORTS = { laptop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } }
/** What fails the test; moderate and minor findings are printed, not failed. */
const FAILING = new Set(['serious', 'critical'])

/** A board page is ready when it is synced and shows the seeded notes, groups and arrows. */
const boardReady = ([notes, groups, arrows]) => window.__werktafel?.page === 'board' &&
  window.__werktafel.status === 'connected' && window.__werktafel.synced &&
  document.querySelectorAll('.note').length >= notes && document.querySelectorAll('.group').length >= groups &&
  document.querySelectorAll('line.connector').length >= arrows && window.__werktafel.facilitation?.draftsReady()

/**
 * Every page: `path` under /e/{event}, the `key` role it is opened with, the hook
 * condition `ready` (with its `arg`) that says it has rendered, and optionally a
 * `then` step that opens something on it (a dialog) before axe runs, `lang`
 * ('nl' unless said) and `anonymous` (no name saved yet).
 */
const PAGES = [
  { name: 'start', path: '', key: 'join', ready: () => window.__werktafel?.page === 'start' && window.__werktafel.ready },
  { name: 'board-a-writing', path: '/t/a', key: 'join', ready: boardReady, arg: [12, 1, 1] },
  { name: 'board-b-voting', path: '/t/b', key: 'join', ready: boardReady, arg: [12, 1, 0], then: voteOnce },
  { name: 'board-c-next-steps', path: '/t/c', key: 'join', ready: boardReady, arg: [13, 0, 0] },
  { name: 'board-d-closed', path: '/t/d', key: 'join', ready: boardReady, arg: [8, 0, 0] },
  { name: 'name-prompt', path: '/t/a', key: 'join', anonymous: true, ready: () => window.__werktafel?.page === 'name' && document.querySelector('.name-page input') },
  { name: 'plenary', path: '/plenair', key: 'view', ready: plenaryReady },
  { name: 'plenary-spotlight', path: '/plenair', key: 'view', ready: plenaryReady, then: openSpotlight },
  { name: 'start-market', path: '?view=markt', key: 'join', ready: () => window.__werktafel?.page === 'start' && window.__werktafel.ready && window.__werktafel.startMode === 'markt' },
  { name: 'market', path: '/markt', key: 'join', ready: () => window.__werktafel?.page === 'market' && window.__werktafel.ready },
  { name: 'stand', path: '/markt/2', key: 'join', ready: () => window.__werktafel?.page === 'stand' && window.__werktafel.ready && window.__werktafel.synced },
  { name: 'facilitator', path: '/facilitator', key: 'facilitate', ready: () => window.__werktafel?.page === 'facilitator' && window.__werktafel.ready },
  { name: 'start-en', path: '', key: 'join', lang: 'en', ready: () => window.__werktafel?.page === 'start' && window.__werktafel.ready },
  { name: 'board-a-en', path: '/t/a', key: 'join', lang: 'en', ready: boardReady, arg: [12, 1, 1] },
  { name: 'lecture', path: '/zaal', key: 'join', ready: lectureReady, arg: false },
  { name: 'lecture-facilitator', path: '/zaal', key: 'facilitate', ready: lectureReady, arg: true },
  { name: 'plenary-day', path: '/terugkoppeling', key: 'view', ready: dayReady, arg: '.pl-closing__text' },
  { name: 'plenary-day-facilitator', path: '/terugkoppeling', key: 'facilitate', ready: dayReady, arg: '.pl-closing__field--text' },
  { name: 'not-found', path: '/t/zz', key: 'join', ready: () => window.__werktafel?.page === 'error' && document.querySelector('.not-found') },
  // Table A's market side panel with a tip and a question from OT 2's stand, folded and opened by keyboard.
  { name: 'board-a-market-panel', path: '/t/a', key: 'join', ready: panelReady, arg: 2, then: panelByKeyboard },
  // Switches table A to the poster view and adds a note, an actor and an arrow there.
  { name: 'board-a-poster', path: '/t/a', key: 'join', ready: boardReady, arg: [12, 1, 1], then: posterWithItems },
  // Changes table A (back to lanes, private writing, then locked): keep it last.
  { name: 'board-a-draft-locked', path: '/t/a', key: 'join', ready: boardReady, arg: [12, 1, 1], then: draftThenLock },
]

let server, browser, event, dir
const seeds = []

before(async () => {
  ({ server, browser, event, dir } = await openWorld())
  for (const [table, notes] of Object.entries(busyTables())) seeds.push(await seedNotes(server, event, table, notes))
  // Table A gets a group of its first two notes and an arrow from the group to a third; B a group.
  seeds.push(await seedStructure(server, event, 'a', seeds[0].ids))
  seeds.push(await seedStructure(server, event, 'b', seeds[1].ids, false))
  // Each table in another phase, so each phase's markup is checked.
  await control({ tables: ['b'], phase: 'stemmen', voteVisibility: 'always', timerMinutes: 10 })
  await control({ tables: ['c'], phase: 'vervolgstappen' })
  await control({ tables: ['d'], phase: 'gesloten' })
  // The lecture board gets an insight (pinned) and a question; the closing feedback a next step.
  seeds.push(await seedLecture(server, event))
  // OT 2 (linked to table A) gets a tip and a question, so the board's market panel lists them.
  seeds.push(await seedStand(server, event))
  await api('/zaal/pins', 'POST', { insightId: 'zaalinzicht01', pinned: true })
  await api('/next-steps', 'POST', { text: 'Werksessie over de straat', owner: 'OT 3', due: 'juni', followUp: 'werksessie', source: { kind: 'table', id: 'a' } })
})
after(async () => {
  for (const s of seeds) s.close()
  await closeWorld({ server, browser })
})

for (const page of PAGES) {
  for (const [label, viewport] of Object.entries(VIEWPORTS)) {
    test(`${page.name} on a ${label}: no serious or critical axe violations`, async t => {
      const a = await axeActor(browser, page.anonymous ? null : 'Anna', viewport, page.lang ?? 'nl')
      try {
        const sep = page.path.includes('?') ? '&' : '?'
        await a.page.goto(`${server.url}/e/${event}${page.path}${sep}key=${server.keys[page.key]}`)
        await waitFor(a, page.ready, page.arg, `the ${page.name} page`)
        if (page.then) await page.then(a)
        // Transitions (the plenary's bars grow) end before the picture is taken; endless ones are left running.
        await a.page.evaluate(() => Promise.all(document.getAnimations()
          .filter(x => x.effect?.getComputedTiming().endTime !== Infinity).map(x => x.finished.catch(() => {}))))
        await a.page.screenshot({ path: join(dir, `a11y-${page.name}-${label}.png`), fullPage: true })
        const { violations, incomplete } = await runAxe(a)
        for (const v of violations) t.diagnostic(`${v.impact} ${v.id} ×${v.nodes.length}`)
        const contrastUnsure = incomplete.find(v => v.id === 'color-contrast')
        if (contrastUnsure) t.diagnostic(`color-contrast not decided (background image or overlap) on ${contrastUnsure.nodes.length} nodes`)
        if (process.env.A11Y_VERBOSE) t.diagnostic(report([...violations, ...incomplete.map(v => ({ ...v, id: `${v.id} (undecided)` }))]))
        const failing = violations.filter(v => FAILING.has(v.impact))
        assert.equal(failing.length, 0, `${page.name} at ${viewport.width}×${viewport.height}:\n${report(failing)}`)
      } finally {
        await a.context.close()
      }
    })
  }
}

/** Injects axe-core (the context bypasses the page's CSP for that) and runs it on the whole document. */
async function runAxe (a) {
  await a.page.addScriptTag({ path: AXE })
  return a.page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations', 'incomplete'] })
    const slim = list => list.map(v => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map(n => ({ target: n.target.join(' '), summary: n.failureSummary ?? '' })),
    }))
    return { violations: slim(r.violations), incomplete: slim(r.incomplete) }
  })
}

/** Everything a reader needs to fix a violation without rerunning: id, impact, help, each node and why. */
function report (violations) {
  return violations.map(v => [
    `- ${v.id} (${v.impact}): ${v.help} <${v.helpUrl}>`,
    ...v.nodes.map(n => `    ${n.target}\n      ${n.summary.replace(/\n/g, '\n      ')}`),
  ].join('\n')).join('\n')
}

/**
 * An actor whose context bypasses the Content-Security-Policy, so axe's script
 * tag runs; only this test does that. `name` null leaves the name unset.
 */
async function axeActor (browser, name, viewport, lang) {
  const a = await actor(browser, name, { viewport, lang, context: { bypassCSP: true, timezoneId: 'UTC' } })
  // The programme header marks what is on "Nu" by the device's clock: 14:00 is the tables'
  // session, so the label is on every page. Only Date is fixed; timers keep running.
  await a.context.clock.setFixedTime(new Date(`${new Date().toISOString().slice(0, 10)}T14:00:00Z`))
  return a
}

function plenaryReady () {
  return window.__werktafel?.page === 'plenary' && window.__werktafel.live === 'live' &&
    window.__werktafel.summary?.tables.length === 4 && window.__werktafel.summary.tables.every(t => t.noteCount > 0) &&
    document.querySelectorAll('.pl-tile .pl-note__button').length > 0
}

/** One vote on the first note that takes one, so the dots and totals are on the page. */
async function voteOnce (a) {
  await a.page.locator('.vote-add').first().click()
  await waitFor(a, () => window.__werktafel.facilitation.votes().used >= 1 && document.querySelector('.vote-dot'), undefined, 'a vote of mine on the board')
}

/** Private writing on, a draft of mine, then pens down: the draft and the lock banner are on the page. */
async function draftThenLock (a) {
  await control({ tables: ['a'], view: 'lanes', privateWriting: true, locked: false })
  await waitFor(a, () => window.__werktafel.facilitation.control().privateWriting && window.__werktafel.facilitation.editable(), undefined, 'private writing')
  await newNoteWithText(a, 'Een idee dat nog even privé blijft')
  await waitFor(a, () => document.querySelector('.note--draft .note__draft'), undefined, 'my draft marked private')
  await control({ tables: ['a'], locked: true })
  await waitFor(a, () => window.__werktafel.facilitation.control().locked && !window.__werktafel.facilitation.editable(), undefined, 'the table locked')
}

/** Table A as a poster: a note placed from the tray, one written on it, an actor and an arrow to a point. */
async function posterWithItems (a) {
  await control({ tables: ['a'], view: 'poster' })
  await waitFor(a, () => !document.querySelector('.poster')?.hidden && document.querySelector('.poster__underlay')?.complete, undefined, 'the poster view')
  await a.page.locator('.poster-tray__note button').first().click()
  await a.page.locator('.poster__viewport').focus()
  await a.page.keyboard.press('n')
  await waitFor(a, () => document.activeElement?.classList.contains('poster-note__text'), undefined, 'a note on the poster')
  await a.page.keyboard.type('Kansenkaart')
  await a.page.keyboard.press('Escape')
  await a.page.keyboard.press('a')
  await a.page.locator('.poster__viewport').focus()
  await a.page.keyboard.press('Enter')
  await a.page.locator('.poster__tools button[data-marker="actor"]').click()
  await a.page.keyboard.type('Wethouder')
  await a.page.keyboard.press('Enter')
  await waitFor(a, () => document.querySelectorAll('.poster-note').length >= 2 && document.querySelector('.poster__arrows line') &&
    document.querySelector('.poster-marker--actor'), undefined, 'notes, an arrow and an actor on the poster')
}

async function openSpotlight (a) {
  await a.page.locator('.pl-tile[data-table="a"] .pl-tile__title').click()
  await waitFor(a, () => document.querySelector('dialog.pl-spotlight[open] .pl-spotlight__body > *'), undefined, 'the spotlight on table A')
}

/** The lecture board has synced, shows its items, and (for the facilitator) the pin buttons. */
function lectureReady (facilitator) {
  const h = window.__werktafel
  return h?.page === 'lecture' && h.status === 'connected' && h.synced && h.ready &&
    document.querySelectorAll('.insight').length >= 2 && (!facilitator || document.querySelector('.insight__pin'))
}

/** The day view is live and shows the pinned insight and the next step (as `selector` renders it). */
function dayReady (selector) {
  return window.__werktafel?.page === 'plenary' && window.__werktafel.live === 'live' &&
    document.querySelector('.pl-day__pinned .pl-insight') && document.querySelector(selector)
}

/** A request to the event's API as the facilitator; fails the test on anything but 2xx. */
async function api (path, method, body) {
  const res = await fetch(`${server.url}/api/events/${event}${path}?key=${server.keys.facilitate}`, {
    method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  })
  assert.ok(res.ok, `${method} ${path} ${JSON.stringify(body)}: ${res.status} ${await res.text()}`)
}

/** An insight and a question on the lecture board, written as docs/schema.md says, by a stock Yjs client. */
/** A board with its market panel listing at least `tips` tips from the linked stands. */
function panelReady (tips) {
  return window.__werktafel?.page === 'board' && window.__werktafel.synced &&
    window.__werktafel.facilitation?.draftsReady() && document.querySelectorAll('.market-panel .tip').length >= tips
}

/** The panel folds and opens with Enter on its title, and Tab then reaches a tip's button. */
async function panelByKeyboard (a) {
  const title = a.page.locator('.market-panel__title')
  await title.focus()
  await a.page.keyboard.press('Enter')
  await waitFor(a, () => document.querySelector('.market-panel').dataset.open === 'false', undefined, 'the panel folded')
  await a.page.keyboard.press('Enter')
  await waitFor(a, () => document.querySelector('.market-panel').dataset.open === 'true', undefined, 'the panel open again')
  await a.page.keyboard.press('Tab')
  await waitFor(a, () => document.activeElement?.classList.contains('market-panel__bring'), undefined, 'a tip\'s button reached by Tab')
}

/** A tip and a question at OT 2's stand, written by a stock client, stored before it returns. */
async function seedStand (server, event) {
  const open = (doc, key) => new WebsocketProvider(server.url.replace(/^http/, 'ws') + '/sync/' + event, 'markt-ot2', doc,
    { WebSocketPolyfill: WebSocket, disableBc: true, params: { key } })
  const doc = new Y.Doc()
  const provider = open(doc, server.keys.join)
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`stand client did not sync (log: ${server.logPath})`)), 15_000)
    provider.once('sync', synced => { if (synced) { clearTimeout(timer); resolve() } })
  })
  doc.transact(() => {
    for (const [id, text, kind] of [['standtip0001', 'Kijk naar de intervisies van Utrecht', 'tip'], ['standvraag01', 'Wie beheert de catalogus straks?', 'vraag']]) {
      const m = new Y.Map()
      for (const [k, v] of Object.entries({ kind, text, author: 'Bram', authorId: 'seed-bram', createdAt: Date.now() })) m.set(k, v)
      doc.getMap('tips').set(id, m)
    }
  })
  const reader = new Y.Doc()
  const readerProvider = open(reader, server.keys.join)
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the tips did not reach a second client (log: ${server.logPath})`)), 15_000)
    const check = () => { if (reader.getMap('tips').size >= 2) { clearTimeout(timer); resolve() } }
    reader.getMap('tips').observe(check)
    check()
  })
  readerProvider.destroy()
  reader.destroy()
  return { close: () => { provider.destroy(); doc.destroy() } }
}

async function seedLecture (server, event) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(server.url.replace(/^http/, 'ws') + '/sync/' + event, 'zaal', doc,
    { WebSocketPolyfill: WebSocket, disableBc: true, params: { key: server.keys.join } })
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lecture client did not sync (log: ${server.logPath})`)), 15_000)
    provider.once('sync', synced => { if (synced) { clearTimeout(timer); resolve() } })
  })
  doc.transact(() => {
    for (const [id, text, kind] of [['zaalinzicht01', 'De straat is een verblijfsplek', 'inzicht'], ['zaalvraag0001', 'Hoe meten we leefbaarheid?', 'vraag']]) {
      const m = new Y.Map()
      for (const [k, v] of Object.entries({ text, kind, author: 'Anna', authorId: 'seed-anna', createdAt: Date.now() })) m.set(k, v)
      doc.getMap('insights').set(id, m)
    }
  })
  // The server has them (and the pin below finds them) once a second client receives them:
  // the server sends only what it has stored.
  const reader = new Y.Doc()
  const readerProvider = new WebsocketProvider(server.url.replace(/^http/, 'ws') + '/sync/' + event, 'zaal', reader,
    { WebSocketPolyfill: WebSocket, disableBc: true, params: { key: server.keys.view } })
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the insights did not reach a second client (log: ${server.logPath})`)), 15_000)
    const check = () => { if (reader.getMap('insights').size >= 2) { clearTimeout(timer); resolve() } }
    reader.getMap('insights').observe(check)
    check()
  })
  readerProvider.destroy()
  reader.destroy()
  return { close: () => { provider.destroy(); doc.destroy() } }
}

/** Sets the facilitation state of some tables, as the console does. */
async function control (body) {
  const res = await fetch(`${server.url}/api/events/${event}/control?key=${server.keys.facilitate}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  })
  assert.equal(res.status, 200, `control ${JSON.stringify(body)}: ${res.status} ${await res.text()}`)
}

/**
 * Writes a group holding notes ids[0] and ids[1] (with a title) and, if
 * `arrow`, a labelled connector from the group to ids[4], as docs/schema.md
 * describes, with a stock Yjs client.
 */
async function seedStructure (server, event, table, ids, arrow = true) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(server.url.replace(/^http/, 'ws') + '/sync/' + event, table, doc,
    { WebSocketPolyfill: WebSocket, disableBc: true, params: { key: server.keys.join } })
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`structure client did not sync (log: ${server.logPath})`)), 15_000)
    provider.once('sync', synced => { if (synced) { clearTimeout(timer); resolve() } })
  })
  const groupId = `grp0000${table}`
  doc.transact(() => {
    const notes = doc.getMap('notes')
    const first = notes.get(ids[0])
    const group = new Y.Map()
    group.set('title', new Y.Text('Samen beheren'))
    group.set('lane', first.get('lane'))
    group.set('color', 'geel')
    group.set('x', first.get('x'))
    group.set('y', first.get('y'))
    group.set('createdAt', Date.now())
    doc.getMap('groups').set(groupId, group)
    for (const id of ids.slice(0, 2)) notes.get(id).set('group', groupId)
    if (arrow) {
      const c = new Y.Map()
      c.set('from', groupId)
      c.set('to', ids[4])
      c.set('label', new Y.Text('versterkt'))
      c.set('author', 'Bram')
      c.set('createdAt', Date.now())
      doc.getMap('connectors').set(`arr0000${table}`, c)
    }
  })
  return {
    close () {
      provider.awareness.destroy()
      provider.destroy()
      doc.destroy()
    },
  }
}
