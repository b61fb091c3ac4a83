// What one remote keystroke costs the board's main thread on a busy table.
// Not a test (it asserts no timing); run it by hand and compare builds:
//
//   cargo build -p werktafel-server     # the binary embeds web/dist
//   node tests/e2e/perf-board.mjs [notes=500] [keystrokes=100]
//
// A stock Yjs peer (yjs + y-websocket in Node, tests/interop/schema-js.mjs)
// fills table a with NOTES notes spread over the three lanes, a participant
// opens the board in Chromium, and the peer then types KEYSTROKES characters
// into one note, one transaction per character (with `updatedAt`, as the
// client writes it). After each keystroke the script waits until the page's
// textarea shows it and the page has rendered a frame, so every keystroke is
// handled and drawn on its own.
//
// Main-thread time is Chromium's own accounting (CDP `Performance.getMetrics`:
// TaskDuration, ScriptDuration, LayoutDuration, RecalcStyleDuration), the
// difference over the typing loop minus the same loop with nothing typed
// (what the script's own round trips cost the page), divided by KEYSTROKES.
// At the end it checks (and prints) that the board's positions after typing
// are those a full layout gives.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import { actor, defaultEvent, launchBrowser, startServer, waitFor, waitSynced } from './support.mjs'
import { insertNote, typeInto } from '../interop/schema-js.mjs'

const NOTES = Number(process.argv[2] ?? 500)
const KEYSTROKES = Number(process.argv[3] ?? 100)
const LANES = ['goed', 'doorpakken', 'vervolgstap']
const COLORS = ['geel', 'roze', 'blauw', 'groen', 'oranje', 'paars']

async function peer (server, event, table) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(server.url.replace(/^http/, 'ws') + '/sync/' + event, table, doc,
    { WebSocketPolyfill: WebSocket, disableBc: true, params: { key: server.keys.join } })
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`peer did not sync (log: ${server.logPath})`)), 15_000)
    provider.once('sync', synced => { if (synced) { clearTimeout(timer); resolve() } })
  })
  return {
    doc,
    close () { provider.awareness.destroy(); provider.destroy(); doc.destroy() },
  }
}

/** NOTES notes, round-robin over the lanes, two columns per lane. */
function fill (doc) {
  const ids = []
  for (let i = 0; i < NOTES; i++) {
    const lane = LANES[i % 3]
    const k = Math.floor(i / 3)
    const id = `perf${String(i).padStart(5, '0')}note`
    insertNote(doc, {
      id,
      text: `Notitie ${i}: een gedachte van gemiddelde lengte over de opgave`,
      lane,
      color: COLORS[i % COLORS.length],
      x: k % 2 === 0 ? 12 : 180,
      y: 12 + Math.floor(k / 2) * 150,
      author: `Deelnemer ${i % 17}`,
      authorId: `perfauthor${i % 17}`,
      nowMs: Date.now(),
    })
    ids.push(id)
  }
  return ids
}

async function metrics (cdp) {
  const { metrics } = await cdp.send('Performance.getMetrics')
  const m = Object.fromEntries(metrics.map(x => [x.name, x.value]))
  return { task: m.TaskDuration, script: m.ScriptDuration, layout: m.LayoutDuration, style: m.RecalcStyleDuration }
}

const diff = (a, b) => Object.fromEntries(Object.keys(a).map(k => [k, b[k] - a[k]]))

/** Resolves in the page once the note's textarea has `length` characters and a frame was drawn. */
function shown (page, id, length) {
  return page.evaluate(([id, length]) => new Promise(resolve => {
    const ta = document.querySelector(`[data-note-id="${id}"] textarea`)
    const done = () => requestAnimationFrame(() => setTimeout(resolve))
    if (ta.value.length >= length) { done(); return }
    const on = () => { if (ta.value.length >= length) { ta.removeEventListener('remote-change', on); done() } }
    ta.addEventListener('remote-change', on)
  }), [id, length])
}

const server = await startServer()
const browser = await launchBrowser()
try {
  const event = await defaultEvent(server)
  const typist = await peer(server, event, 'a')
  const ids = fill(typist.doc)
  const anna = await actor(browser, 'Anna')
  await anna.page.goto(`${server.url}/e/${event}/t/a?key=${server.keys.join}`)
  await waitSynced(anna)
  await waitFor(anna, n => document.querySelectorAll('.note').length >= n, NOTES, `${NOTES} notes on the board`)
  const cdp = await anna.context.newCDPSession(anna.page)
  await cdp.send('Performance.enable', { timeMetrics: 'threadTicks' })

  const target = ids[0]
  const text = () => typist.doc.getMap('notes').get(target).get('text')
  // Warm up: a few keystrokes so that first-time costs (JIT, caches) are not counted.
  for (let i = 0; i < 5; i++) {
    const wait = shown(anna.page, target, text().length + 1)
    typeInto(typist.doc, target, text().length, 'w', Date.now())
    await wait
  }

  // The script's own cost: the same round trips, nothing typed.
  const idle0 = await metrics(cdp)
  for (let i = 0; i < KEYSTROKES; i++) await shown(anna.page, target, 0)
  const idle = diff(idle0, await metrics(cdp))

  const start = await metrics(cdp)
  const t0 = performance.now()
  for (let i = 0; i < KEYSTROKES; i++) {
    const wait = shown(anna.page, target, text().length + 1)
    typeInto(typist.doc, target, text().length, 'abcdefghij'[i % 10], Date.now())
    await wait
  }
  const wall = performance.now() - t0
  const typing = diff(start, await metrics(cdp))

  // The incremental layout must place every note where a full one does:
  // resizing the window there and back lays out every lane from scratch.
  const positions = () => anna.page.evaluate(() => [...document.querySelectorAll('.note')].map(n => `${n.dataset.noteId}:${n.style.getPropertyValue('--y')}`).join(' '))
  const incremental = await positions()
  await anna.page.setViewportSize({ width: 1000, height: 800 })
  await anna.page.evaluate(() => new Promise(resolve => requestAnimationFrame(() => setTimeout(resolve))))
  await anna.page.setViewportSize({ width: 1280, height: 800 })
  await anna.page.evaluate(() => new Promise(resolve => requestAnimationFrame(() => setTimeout(resolve))))
  const full = await positions()

  const per = k => ((typing[k] - idle[k]) * 1000 / KEYSTROKES).toFixed(2)
  const notesShown = await anna.page.evaluate(() => document.querySelectorAll('.note').length)
  console.log(`board of ${notesShown} notes, ${KEYSTROKES} remote keystrokes into one note (wall ${wall.toFixed(0)} ms)`)
  console.log(`main thread per keystroke (ms): task ${per('task')}  script ${per('script')}  layout ${per('layout')}  style ${per('style')}`)
  console.log(`raw (ms over the loop): typing ${JSON.stringify(Object.fromEntries(Object.entries(typing).map(([k, v]) => [k, +(v * 1000).toFixed(1)])))}` +
    ` idle ${JSON.stringify(Object.fromEntries(Object.entries(idle).map(([k, v]) => [k, +(v * 1000).toFixed(1)])))}`)
  console.log(`positions after typing equal a full layout's: ${incremental === full ? 'yes' : 'NO'}`)
  typist.close()
  await anna.context.close()
} finally {
  await browser.close()
  await server.stop()
}
