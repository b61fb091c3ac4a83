// Scenario 1: participants at the same table see each other's typing live;
// a participant at another table does not.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { actor, closeWorld, newNoteWithText, notes, openBoard, openWorld, waitFor } from './support.mjs'

let server, browser, event, dir

before(async () => ({ server, browser, event, dir } = await openWorld()))
after(() => closeWorld({ server, browser }))

test('a note typed at table a appears for the other participant at a, not at b', async () => {
  const anna = await actor(browser, 'Anna')
  const bram = await actor(browser, 'Bram')
  const carla = await actor(browser, 'Carla')
  await openBoard(anna, server, event, 'a')
  await openBoard(bram, server, event, 'a')
  await openBoard(carla, server, event, 'b')

  // Bram sees Anna at the table before she starts writing.
  await waitFor(bram, () => window.__werktafel.people().includes('Anna'), undefined, 'Anna in the presence list')

  const text = 'Groene daken op elk schoolgebouw'
  const id = await newNoteWithText(anna, text)
  await waitFor(bram, ([id, text]) => window.__werktafel.notes().some(n => n.id === id && n.text === text), [id, text],
    `note ${id} with "${text}"`)
  // The text is in Bram's DOM too, as a real textarea in the right lane.
  const shown = bram.page.locator(`.lane--goed [data-note-id="${id}"] textarea`)
  assert.equal(await shown.inputValue(), text)
  // Anna's caret is in the note, so Bram sees her name on it.
  await waitFor(bram, id => document.querySelector(`[data-note-id="${id}"] .note__editor`)?.textContent.includes('Anna'), id,
    'the "Anna typt" tag on the note')

  // Carla at table b has synced after the note was made, and has none of it.
  await carla.page.reload()
  await waitFor(carla, () => window.__werktafel?.synced && window.__werktafel.status === 'connected', undefined, 'sync at table b')
  assert.deepEqual(await notes(carla), [], 'table b must not see notes of table a')

  for (const a of [anna, bram, carla]) await a.context.close()
})

test('two people typing in the same note at once lose no characters', async () => {
  const anna = await actor(browser, 'Anna')
  const bram = await actor(browser, 'Bram')
  await openBoard(anna, server, event, 'c')
  await openBoard(bram, server, event, 'c')

  const id = await newNoteWithText(anna, 'Samen: ')
  await waitFor(bram, id => window.__werktafel.notes().some(n => n.id === id && n.text === 'Samen: '), id, 'the shared note')
  const field = bram.page.locator(`[data-note-id="${id}"] textarea`)
  await field.click()
  await bram.page.keyboard.press('End')

  const fromAnna = 'aaaa bbbb cccc'
  const fromBram = 'XXXX YYYY ZZZZ'
  await Promise.all([
    anna.page.keyboard.type(fromAnna, { delay: 15 }),
    bram.page.keyboard.type(fromBram, { delay: 15 }),
  ])
  const expectedLength = 'Samen: '.length + fromAnna.length + fromBram.length
  for (const a of [anna, bram]) {
    await waitFor(a, ([id, len]) => window.__werktafel.notes().find(n => n.id === id)?.text.length === len, [id, expectedLength],
      `all ${expectedLength} characters in note ${id}`)
  }
  const [a, b] = await Promise.all([notes(anna), notes(bram)])
  const textA = a.find(n => n.id === id).text
  const textB = b.find(n => n.id === id).text
  assert.equal(textA, textB, 'both sides converge on the same text')
  // Each person's keystrokes stay in their own order (no scrambling).
  assert.ok(isSubsequence(fromAnna, textA), `"${fromAnna}" is kept in order in "${textA}"`)
  assert.ok(isSubsequence(fromBram, textA), `"${fromBram}" is kept in order in "${textA}"`)
  // The textarea shows what the document holds, on both sides.
  assert.equal(await field.inputValue(), textA)
  assert.equal(await anna.page.locator(`[data-note-id="${id}"] textarea`).inputValue(), textA)

  for (const x of [anna, bram]) await x.context.close()
})

function isSubsequence (needle, haystack) {
  let i = 0
  for (const ch of haystack) if (ch === needle[i]) i++
  return i === needle.length
}
