// Board interactions between two participants: colour, moving notes by
// dragging and by keyboard, delete with undo, and undo that only touches
// your own edits.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { actor, closeWorld, newNoteWithText, openBoard, openWorld, waitFor, waitSynced } from './support.mjs'

let server, browser, event, dir

before(async () => ({ server, browser, event, dir } = await openWorld()))
after(() => closeWorld({ server, browser }))

/** Waits until `a` sees note `id` matching every field in `want`. */
function seesNote (a, id, want, what) {
  return waitFor(a, ([id, want]) => {
    const n = window.__werktafel.notes().find(n => n.id === id)
    return n && Object.entries(want).every(([k, v]) => n[k] === v)
  }, [id, want], what ?? `note ${id} with ${JSON.stringify(want)}`)
}

function noteMissing (a, id) {
  return waitFor(a, id => !window.__werktafel.notes().some(n => n.id === id), id, `note ${id} to be gone`)
}

test('colour, drag to another lane and keyboard moves reach the other participant', async () => {
  const anna = await actor(browser, 'Anna')
  const bram = await actor(browser, 'Bram')
  await openBoard(anna, server, event, 'b')
  await openBoard(bram, server, event, 'b')
  const id = await newNoteWithText(anna, 'Ambitieweb per straat')
  const note = anna.page.locator(`[data-note-id="${id}"]`)

  await note.getByRole('radio', { name: /roze/ }).click()
  await seesNote(bram, id, { color: 'roze' })

  // Drag by the grip into the middle of the "doorpakken" lane.
  const grip = note.locator('.note__grip')
  const from = await grip.boundingBox()
  const lane = await anna.page.locator('.lane--doorpakken .lane__body').boundingBox()
  await anna.page.mouse.move(from.x + from.width / 2, from.y + from.height / 2)
  await anna.page.mouse.down()
  await anna.page.mouse.move(lane.x + lane.width / 2, lane.y + 200, { steps: 8 })
  await anna.page.mouse.up()
  await seesNote(bram, id, { lane: 'doorpakken' }, 'the note dragged into "doorpakken"')
  assert.equal(await bram.page.locator(`.lane--doorpakken [data-note-id="${id}"]`).count(), 1)

  // Keyboard: Alt+→ on the grip moves it one lane on, ↓ nudges it down.
  await grip.focus()
  await anna.page.keyboard.press('Alt+ArrowRight')
  await seesNote(bram, id, { lane: 'vervolgstap' }, 'the note moved by keyboard to "vervolgstap"')
  const y = (await anna.page.evaluate(id => window.__werktafel.notes().find(n => n.id === id).y, id))
  await anna.page.locator(`[data-note-id="${id}"] .note__grip`).focus()
  await anna.page.keyboard.press('ArrowDown')
  await seesNote(bram, id, { y: y + 24 }, 'the note nudged down by 24 units')

  for (const a of [anna, bram]) await a.context.close()
})

test('delete shows a toast whose undo brings the note back for everyone', async () => {
  const anna = await actor(browser, 'Anna')
  const bram = await actor(browser, 'Bram')
  await openBoard(anna, server, event, 'c')
  await openBoard(bram, server, event, 'c')
  const id = await newNoteWithText(anna, 'Wijkwethouder betrekken')
  await seesNote(bram, id, { text: 'Wijkwethouder betrekken' })

  await anna.page.locator(`[data-note-id="${id}"]`).getByRole('button', { name: 'Verwijderen' }).click()
  await noteMissing(bram, id)
  const toast = anna.page.getByRole('status').filter({ hasText: 'Notitie verwijderd' })
  await toast.getByRole('button', { name: 'Ongedaan maken' }).click()
  await seesNote(bram, id, { text: 'Wijkwethouder betrekken' }, 'the deleted note restored')

  for (const a of [anna, bram]) await a.context.close()
})

test('Ctrl+Z undoes only your own typing, Ctrl+Shift+Z redoes it', async () => {
  const anna = await actor(browser, 'Anna')
  const bram = await actor(browser, 'Bram')
  await openBoard(anna, server, event, 'd')
  await openBoard(bram, server, event, 'd')
  const id = await newNoteWithText(anna, 'Baathouders')
  await seesNote(bram, id, { text: 'Baathouders' })
  // A separate undo step for Anna's next words: focusing a note starts a new step.
  await anna.page.evaluate(() => document.activeElement.blur())
  const annaField = anna.page.locator(`[data-note-id="${id}"] textarea`)
  await annaField.click()
  await anna.page.keyboard.press('End')
  await anna.page.keyboard.type(' in beeld')

  const bramField = bram.page.locator(`[data-note-id="${id}"] textarea`)
  await seesNote(bram, id, { text: 'Baathouders in beeld' })
  await bramField.click()
  await bram.page.keyboard.press('Home')
  await bram.page.keyboard.type('Alle ')
  await seesNote(anna, id, { text: 'Alle Baathouders in beeld' })

  await annaField.focus()
  await anna.page.keyboard.press('Control+z')
  await seesNote(bram, id, { text: 'Alle Baathouders' }, 'Anna\'s " in beeld" undone, Bram\'s "Alle " kept')
  await anna.page.keyboard.press('Control+Shift+z')
  await seesNote(bram, id, { text: 'Alle Baathouders in beeld' }, 'Anna\'s words redone')

  for (const a of [anna, bram]) await a.context.close()
})

test('the language switch turns the board English and is remembered', async () => {
  const anna = await actor(browser, 'Anna')
  await openBoard(anna, server, event, 'a')
  assert.equal(await anna.page.locator('.lane--goed .lane__title').textContent(), 'Wat gaat al goed')
  await anna.page.getByRole('button', { name: 'Switch to English' }).click()
  await waitSynced(anna, 'the board to come back after switching language')
  assert.equal(await anna.page.locator('.lane--goed .lane__title').textContent(), 'What is already going well')
  await anna.page.reload()
  await waitSynced(anna, 'the board after a reload')
  assert.equal(await anna.page.locator('.status').textContent(), 'connected')
  assert.equal(await anna.page.evaluate(() => document.documentElement.lang), 'en')
  await anna.context.close()
})

test('an unknown table or event says so instead of spinning', async () => {
  const anna = await actor(browser, 'Anna')
  for (const path of [`/e/${event}/t/zz?key=${server.keys.join}`, '/e/bestaat-niet']) {
    await anna.page.goto(server.url + path)
    await waitFor(anna, () => window.__werktafel?.page === 'error', undefined, `the not-found page for ${path}`)
    assert.match(await anna.page.locator('#app').textContent(), /bestaat niet/)
  }
  await anna.context.close()
})
