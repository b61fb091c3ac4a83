// Scenario 2: venue Wi-Fi drops. A participant keeps editing offline, reloads
// the page while the sync socket is still unreachable (IndexedDB keeps the
// edits), comes back, and both sides converge on the merged text.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { actor, closeWorld, newNoteWithText, notes, openBoard, openWorld, waitFor, waitSynced } from './support.mjs'

let server, browser, event, dir

before(async () => ({ server, browser, event, dir } = await openWorld()))
after(() => closeWorld({ server, browser }))

test('offline edits survive a reload and merge on reconnect', async () => {
  const anna = await actor(browser, 'Anna')
  const bram = await actor(browser, 'Bram')
  // Anna's sync socket goes through this switch so that, later, her page can
  // reload over HTTP while the server's WebSocket stays unreachable: a reload
  // under context.setOffline(true) could not load the page at all.
  let syncBlocked = false
  await anna.context.routeWebSocket(/\/sync\//, ws => {
    if (syncBlocked) ws.close({ code: 1011, reason: 'test: Wi-Fi down' })
    else ws.connectToServer()
  })
  await openBoard(anna, server, event, 'd')
  await openBoard(bram, server, event, 'd')
  const id = await newNoteWithText(anna, 'Basis')
  await waitFor(bram, id => window.__werktafel.notes().some(n => n.id === id && n.text === 'Basis'), id, 'the "Basis" note')

  // Wi-Fi drops. setOffline alone does not close an open WebSocket in every
  // case (Chromium keeps established sockets), so the app itself closes the
  // socket on the browser's `offline` event; the test checks that it did.
  await anna.context.setOffline(true)
  await waitFor(anna, () => window.__werktafel.status !== 'connected' && !window.__werktafel.synced, undefined, 'the board to notice it is offline')
  assert.match(await anna.page.locator('.status').textContent(), /offline/)
  await anna.page.screenshot({ path: join(dir, 'board-offline.png') })

  // Anna edits the note and creates another one while offline...
  await anna.page.locator(`[data-note-id="${id}"] textarea`).click()
  await anna.page.keyboard.press('End')
  await anna.page.keyboard.type(' + offline aangevuld')
  const offlineId = await newNoteWithText(anna, 'Nieuw idee zonder wifi')
  // ...while Bram, still online, edits the start of the same note.
  const bramField = bram.page.locator(`[data-note-id="${id}"] textarea`)
  await bramField.click()
  await bram.page.keyboard.press('Home')
  await bram.page.keyboard.type('Online: ')
  await waitFor(bram, id => window.__werktafel.notes().find(n => n.id === id)?.text === 'Online: Basis', id, 'his own edit')

  // Anna's edits are in IndexedDB; she reloads with the server still unreachable.
  await anna.page.evaluate(() => window.__werktafel.whenStored())
  syncBlocked = true
  await anna.context.setOffline(false)
  await anna.page.reload()
  await waitFor(anna, ([id, offlineId]) => {
    const h = window.__werktafel
    const ns = h?.page === 'board' && h.localLoaded ? h.notes() : []
    return ns.some(n => n.id === id && n.text === 'Basis + offline aangevuld') &&
      ns.some(n => n.id === offlineId && n.text === 'Nieuw idee zonder wifi')
  }, [id, offlineId], 'the offline edits restored from IndexedDB')
  assert.equal(await anna.page.evaluate(() => window.__werktafel.synced), false, 'Anna must not have synced with the server yet')
  assert.ok(!(await notes(bram)).some(n => n.id === offlineId), 'the offline note must not have reached Bram yet')
  assert.equal(await anna.page.locator(`[data-note-id="${offlineId}"] textarea`).inputValue(), 'Nieuw idee zonder wifi')

  // Wi-Fi is back: the provider's next retry reaches the server.
  syncBlocked = false
  await waitSynced(anna, 'a resync after the Wi-Fi came back')
  const merged = 'Online: Basis + offline aangevuld'
  for (const a of [anna, bram]) {
    await waitFor(a, ([id, offlineId, merged]) => {
      const ns = window.__werktafel.notes()
      return ns.some(n => n.id === id && n.text === merged) && ns.some(n => n.id === offlineId && n.text === 'Nieuw idee zonder wifi')
    }, [id, offlineId, merged], `the merged text "${merged}" and the offline note`)
  }
  assert.deepEqual(sortById(await notes(anna)), sortById(await notes(bram)), 'both sides hold the same notes')

  for (const a of [anna, bram]) await a.context.close()
})

function sortById (ns) {
  return ns.map(({ id, text, lane, color, x, y }) => ({ id, text, lane, color, x, y })).sort((a, b) => a.id.localeCompare(b.id))
}
