// The droomproces poster as underlay: the facilitator switches table A to the
// poster view from the console; a participant writes two notes on the poster,
// moves one with the arrow keys and one with the mouse, draws an arrow between
// them and one to a point on the poster, and adds an actor; a second participant
// sees all of it live and places a note from the tray by keyboard. The
// summary carries the poster, and a 1920×1080 picture of it is written to
// artifacts/poster-1920.png for a person to look at. A poster uploaded from the
// console then shows on the open boards without a reload.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { actor, closeWorld, newNoteWithText, openBoard, openConsole, openWorld, waitFor } from './support.mjs'

let server, browser, event, dir

/** A 2×1 PNG: told apart from the built-in drawing by its size. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAIAAAABCAIAAAB7QOjdAAAADUlEQVR4nGP4zwAE/wEHAAH/4iOeWQAAAABJRU5ErkJggg==', 'base64')

before(async () => ({ server, browser, event, dir } = await openWorld()))
after(() => closeWorld({ server, browser }))

const poster = a => a.page.evaluate(() => window.__werktafel.facilitation.poster())

/** Presses N in the poster view and types a note's text; returns its id. */
async function posterNote (a, text) {
  await a.page.locator('.poster__viewport').focus()
  await a.page.keyboard.press('n')
  await waitFor(a, () => document.activeElement?.classList.contains('poster-note__text'), undefined, 'a new poster note to take the caret')
  const id = await a.page.evaluate(() => document.activeElement.closest('.poster-note').dataset.noteId)
  await a.page.keyboard.type(text)
  await a.page.keyboard.press('Escape')
  return id
}

test('a table on the poster: placing, moving, arrows and an actor, live for everyone', async () => {
  const fac = await actor(browser, 'Femke')
  const anna = await actor(browser, 'Anna')
  const bram = await actor(browser, 'Bram')
  await openConsole(fac, server, event)
  await openBoard(anna, server, event, 'a')
  await openBoard(bram, server, event, 'a')

  // Written in the lanes before the switch: it waits in the tray afterwards.
  await newNoteWithText(bram, 'Wie beheert de data?')
  await waitFor(anna, () => window.__werktafel.notes().length === 1, undefined, 'Bram\'s lane note')

  const card = fac.page.locator('.console-table[data-table="a"]')
  await card.getByRole('button', { name: 'Poster', exact: true }).click()
  for (const a of [anna, bram]) {
    await waitFor(a, () => window.__werktafel.facilitation.poster().view === 'poster' &&
      !document.querySelector('.poster').hidden && document.querySelector('.poster__underlay').complete, undefined, 'the poster view')
  }
  assert.equal(await anna.page.locator('.lane').first().isVisible(), false, 'the lanes are out of sight')
  assert.equal(await anna.page.locator('.poster-tray__note').count(), 1, 'the lane note waits in the tray')
  const underlay = await anna.page.evaluate(() => document.querySelector('.poster__underlay').naturalWidth)
  assert.ok(underlay > 0, 'the built-in poster drawing loaded')

  // Two notes on the poster, written in place.
  const first = await posterNote(anna, 'Kansenkaart samen maken')
  const second = await posterNote(anna, 'Beheerders eerder aan tafel')
  let p = await poster(anna)
  assert.ok(p.placed[first] && p.placed[second], `both notes placed: ${JSON.stringify(p.placed)}`)

  // Keyboard: the focused note moves 10 poster units per arrow key, 100 with Shift.
  const before = p.placed[second]
  await anna.page.locator(`.poster-note[data-note-id="${second}"]`).focus()
  for (const key of ['ArrowRight', 'ArrowRight', 'ArrowRight', 'Shift+ArrowDown']) await anna.page.keyboard.press(key)
  await waitFor(anna, ([id, x, y]) => {
    const at = window.__werktafel.facilitation.poster().placed[id]
    return at && at.x === x && at.y === y
  }, [second, before.x + 30, before.y + 100], 'the second note moved by the arrow keys')

  // Mouse: drag the first note to the left, by its frame.
  const box = await anna.page.locator(`.poster-note[data-note-id="${first}"]`).boundingBox()
  const start = (await poster(anna)).placed[first]
  await anna.page.mouse.move(box.x + 4, box.y + 4)
  await anna.page.mouse.down()
  await anna.page.mouse.move(box.x - 150, box.y - 60, { steps: 5 })
  await anna.page.mouse.up()
  await waitFor(anna, ([id, x]) => window.__werktafel.facilitation.poster().placed[id]?.x < x - 50, [first, start.x], 'the first note dragged left')

  // An arrow between the notes, by keyboard: A on the first, Enter on the second.
  await anna.page.locator(`.poster-note[data-note-id="${first}"]`).focus()
  await anna.page.keyboard.press('a')
  await anna.page.locator(`.poster-note[data-note-id="${second}"]`).focus()
  await anna.page.keyboard.press('Enter')
  // An arrow to a point on the poster, by mouse: the tool, the note, then the spot.
  await anna.page.getByRole('button', { name: /Pijl tekenen/ }).click()
  await anna.page.locator(`.poster-note[data-note-id="${second}"]`).click({ position: { x: 4, y: 4 } })
  const vp = await anna.page.locator('.poster__viewport').boundingBox()
  await anna.page.mouse.click(vp.x + vp.width - 60, vp.y + 40)
  await waitFor(anna, () => window.__werktafel.facilitation.poster().arrows.length === 2, undefined, 'two arrows')

  // An actor marker with a name.
  await anna.page.getByRole('button', { name: '+ Actor' }).click()
  await waitFor(anna, () => document.activeElement?.classList.contains('poster-marker__label'), undefined, 'the marker\'s label field')
  await anna.page.keyboard.type('Gebiedsregisseur')
  await anna.page.keyboard.press('Enter')

  // Bram sees everything live, as HTML on the poster.
  await waitFor(bram, ([first, second]) => {
    const p = window.__werktafel.facilitation.poster()
    const to = p.arrows.map(a => a.to.kind === 'note' ? a.to.id : 'point').sort()
    return p.placed[first] && p.placed[second] && p.arrows.length === 2 && to.join() === [second, 'point'].sort().join() &&
      p.markers.length === 1 && p.markers[0].kind === 'actor' && p.markers[0].label === 'Gebiedsregisseur' &&
      document.querySelectorAll('.poster-note').length === 2 && document.querySelectorAll('.poster__arrows line').length === 2 &&
      document.querySelector('.poster-marker--actor input')?.value === 'Gebiedsregisseur'
  }, [first, second], 'Anna\'s notes, arrows and actor on Bram\'s poster')

  // Bram places the tray note by keyboard.
  await bram.page.getByRole('button', { name: /Plaats op de poster: Wie beheert de data/ }).focus()
  await bram.page.keyboard.press('Enter')
  await waitFor(anna, () => document.querySelectorAll('.poster-note').length === 3 && document.querySelectorAll('.poster-tray__note').length === 0, undefined, 'the tray note on Anna\'s poster')

  // The plenary shows both views: the summary carries every note's position, the arrows and
  // the actor, and table A's spotlight draws the poster with them.
  const plenary = await actor(browser, 'Plenair', { viewport: { width: 1920, height: 1080 } })
  await plenary.page.goto(`${server.url}/e/${event}/plenair?key=${server.keys.view}`)
  await waitFor(plenary, () => {
    const a = window.__werktafel?.summary?.tables.find(t => t.id === 'a')
    const notes = a ? [...a.lanes.goed, ...a.lanes.doorpakken, ...a.lanes.vervolgstap] : []
    return a?.view === 'poster' && a.poster?.arrows.length === 2 && a.poster.markers[0]?.label === 'Gebiedsregisseur' &&
      notes.length === 3 && notes.every(n => n.poster)
  }, undefined, 'the poster of table A in the live summary')
  await plenary.page.locator('.pl-tile[data-table="a"] .pl-tile__title').click()
  await waitFor(plenary, () => document.querySelectorAll('dialog[open] .pl-poster__note').length === 3 &&
    document.querySelectorAll('dialog[open] .pl-poster__arrows line').length === 2 &&
    /Gebiedsregisseur/.test(document.querySelector('dialog[open] .pl-poster__marker--actor')?.textContent ?? ''), undefined, 'the poster in A\'s spotlight')
  await plenary.page.screenshot({ path: join(dir, 'poster-plenary-1920.png') })

  // A picture at 1920×1080 for a person to look at.
  const carla = await actor(browser, 'Carla', { viewport: { width: 1920, height: 1080 } })
  await openBoard(carla, server, event, 'a')
  await waitFor(carla, () => document.querySelectorAll('.poster-note').length === 3 && document.querySelector('.poster__underlay').complete &&
    document.querySelectorAll('.poster__arrows line').length === 2, undefined, 'the poster with notes and arrows')
  await carla.page.screenshot({ path: join(dir, 'poster-1920.png') })

  // The facilitator uploads a new poster from the console: the open boards load it at once,
  // without a reload, and the banner speaks of the poster, not of columns.
  const oldPoster = await bram.page.evaluate(() => document.querySelector('.poster__underlay').src)
  await fac.page.getByLabel('Posterafbeelding (PNG, JPEG of WebP)').setInputFiles({ name: 'poster.png', mimeType: 'image/png', buffer: PNG })
  for (const a of [anna, bram]) {
    await waitFor(a, was => {
      const img = document.querySelector('.poster__underlay')
      return img.src !== was && img.complete && img.naturalWidth === 2 && img.naturalHeight === 1
    }, oldPoster, 'the uploaded poster on the open board')
  }
  const banner = await bram.page.locator('.phase-banner__text').textContent()
  assert.match(banner, /op de poster/, 'the poster view\'s own wording')
  assert.doesNotMatch(banner, /kolom/, 'no columns in the poster view\'s instruction')

  await card.getByRole('button', { name: 'Kolommen', exact: true }).click()
  await waitFor(bram, () => window.__werktafel.facilitation.poster().view === 'lanes' && document.querySelectorAll('.note').length === 3 &&
    document.querySelector('.poster').hidden, undefined, 'the lanes again, with all three notes')
  for (const x of [fac, anna, bram, carla, plenary]) await x.context.close()
})
