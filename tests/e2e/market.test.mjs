// The morning market with actors: team OT 2 writes its stand live (where it
// stands, its ambitions, a link and an uploaded image), two visitors leave
// tips and mark one useful (each once), the overview counts it all, and in
// the afternoon table A (linked to OT 2 and OT 6) brings the tip in as a note
// that shows where it came from. The start page follows the facilitator's
// switch between the market and the tables.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { actor, closeWorld, openBoard, openConsole, openWorld, waitFor } from './support.mjs'

let server, browser, event

before(async () => ({ server, browser, event } = await openWorld()))
after(() => closeWorld({ server, browser }))

/** A 1×1 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64')

async function openStand (a, n) {
  await a.page.goto(`${server.url}/e/${event}/markt/${n}?key=${server.keys.join}`)
  await waitFor(a, () => window.__werktafel?.page === 'stand' && window.__werktafel.synced && window.__werktafel.ready, undefined, `the stand of OT ${n}`)
}

const standState = a => a.page.evaluate(() => window.__werktafel.stand())

test('a team writes its stand, visitors tip it and mark a tip useful once each, a table brings it in', async () => {
  const team = await actor(browser, 'Tessa (OT 2)')
  const anna = await actor(browser, 'Anna')
  const bram = await actor(browser, 'Bram')
  for (const a of [team, anna, bram]) await openStand(a, 2)

  // The team types live; a visitor sees it arrive.
  await team.page.getByLabel('Waar staan we').fill('Routekaart in concept, catalogus in de maak')
  await team.page.getByLabel('Ambities').fill('Voor de zomer tien gemeenten aan boord')
  await waitFor(anna, () => document.querySelector('#stand-status')?.value.startsWith('Routekaart in concept'), undefined, 'the team\'s status at Anna')
  await team.page.getByLabel('Titel van de link').fill('Catalogus')
  await team.page.getByLabel('Adres (https://…)').fill('https://example.org/catalogus')
  await team.page.getByRole('button', { name: 'Link toevoegen' }).click()
  await team.page.getByLabel('Bestand uploaden (afbeelding of PDF)').setInputFiles({ name: 'poster.png', mimeType: 'image/png', buffer: PNG })
  await waitFor(anna, () => window.__werktafel.stand().materials.length === 2, undefined, 'the link and the image at Anna')
  const image = anna.page.locator('.material__image')
  await image.waitFor()
  await waitFor(anna, () => document.querySelector('.material__image')?.naturalWidth === 1, undefined, 'the uploaded image shown')
  // A `javascript:` link is refused by the form.
  await team.page.getByLabel('Adres (https://…)').fill('javascript:alert(1)')
  await team.page.getByRole('button', { name: 'Link toevoegen' }).click()
  assert.equal((await standState(team)).materials.length, 2)

  // Two visitors leave a tip and a question.
  await anna.page.getByLabel('Je tip of vraag').fill('Kijk naar de intervisies van Utrecht')
  await anna.page.getByRole('button', { name: 'Achterlaten' }).click()
  await bram.page.getByLabel('Tip / Vraag').selectOption('vraag')
  await bram.page.getByLabel('Je tip of vraag').fill('Wie beheert de catalogus straks?')
  await bram.page.getByRole('button', { name: 'Achterlaten' }).click()
  await waitFor(team, () => window.__werktafel.stand().tips.length === 2, undefined, 'both tips at the team')
  const tipId = (await standState(team)).tips.find(t => t.kind === 'tip').id

  // Both mark the tip useful; Bram clicks twice (mark, take back) and once more.
  for (const a of [anna, bram]) {
    await a.page.locator(`[data-tip="${tipId}"] .tip__useful`).click()
    await waitFor(a, id => window.__werktafel.stand().mine.includes(id), tipId, 'my mark')
  }
  await bram.page.locator(`[data-tip="${tipId}"] .tip__useful`).click()
  await waitFor(bram, id => !window.__werktafel.stand().mine.includes(id), tipId, 'the mark taken back')
  await bram.page.locator(`[data-tip="${tipId}"] .tip__useful`).click()
  await waitFor(team, id => window.__werktafel.stand().tips.find(t => t.id === id)?.useful === 2, tipId, 'two useful marks at the team')
  // A third request from Anna's identity, straight to the API, changes nothing.
  const useful = await anna.page.evaluate(async ([ev, key, id]) => {
    const res = await fetch(`/api/events/${ev}/stands/markt-ot2/useful?key=${key}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tipId: id, useful: true }) })
    return res.status
  }, [event, server.keys.join, tipId])
  assert.equal(useful, 200, 'the cookie identity marks again')
  await waitFor(team, id => window.__werktafel.stand().tips.find(t => t.id === id)?.useful === 2, tipId, 'still two marks')

  // The overview counts it all and lists the freshest tips.
  const overview = await actor(browser, 'Organisator')
  await overview.page.goto(`${server.url}/e/${event}/markt?key=${server.keys.join}`)
  await waitFor(overview, () => window.__werktafel?.page === 'market' && window.__werktafel.market()?.stands.find(s => s.room === 'markt-ot2')?.counts.useful === 2, undefined, 'the overview\'s counts')
  const counts = await overview.page.evaluate(() => window.__werktafel.market().stands.find(s => s.room === 'markt-ot2').counts)
  assert.deepEqual(counts, { tips: 1, questions: 1, useful: 2, materials: 2 })
  assert.equal(await overview.page.locator('.market-card').count(), 6)
  assert.equal(await overview.page.locator('.market__fresh .tip').count(), 2)
  await waitFor(overview, () => [...document.querySelectorAll('.market-card__qr')].every(i => i.complete && i.naturalWidth > 0), undefined, 'a QR code per stand')

  // In the afternoon, table A (OT 2 and OT 6) brings the tip in.
  const cees = await actor(browser, 'Cees')
  const sockets = []
  cees.page.on('websocket', ws => sockets.push(new URL(ws.url()).pathname))
  await openBoard(cees, server, event, 'a')
  await waitFor(cees, id => window.__werktafel.marketTips().some(t => t.id === id), tipId, 'the tip in the side panel')
  // The panel sits beside the lanes, and follows the two linked stands over their own
  // sync connections: the table, my drafts and one per stand.
  await waitFor(cees, () => window.__werktafel.facilitation.draftsReady(), undefined, 'my drafts')
  const [lanes, panel] = await Promise.all(['.lanes', '.market-panel'].map(s => cees.page.locator(s).boundingBox()))
  assert.ok(panel.x >= lanes.x + lanes.width - 1 && panel.y < lanes.y + lanes.height, `the panel beside the lanes: ${JSON.stringify({ lanes, panel })}`)
  const stands = sockets.filter(p => /\/markt-ot\d+$/.test(p)).map(p => p.split('/').pop()).sort()
  assert.deepEqual(stands, ['markt-ot2', 'markt-ot6'], `stand sockets: ${sockets.join(', ')}`)
  assert.equal(sockets.length, 4, `sockets per board: ${sockets.join(', ')}`)
  // A tip left now shows up live, without a reload or a poll.
  await anna.page.getByLabel('Je tip of vraag').fill('Neem de beheerders vanaf het begin mee')
  await anna.page.getByRole('button', { name: 'Achterlaten' }).click()
  await cees.page.locator('.market-panel .tip__text', { hasText: 'Neem de beheerders vanaf het begin mee' }).waitFor()
  await cees.page.locator(`.market-panel [data-tip="${tipId}"] .market-panel__bring`).click()
  await waitFor(cees, id => window.__werktafel.notes().some(n => n.provenance?.tip === id), tipId, 'the tip as a note')
  const note = (await cees.page.evaluate(() => window.__werktafel.notes())).find(n => n.provenance)
  assert.deepEqual(note.provenance, { stand: 'markt-ot2', tip: tipId })
  assert.equal(note.text, 'Kijk naar de intervisies van Utrecht')
  await cees.page.locator(`[data-note-id="${note.id}"] .note__source`, { hasText: 'uit de markt · OT 2' }).waitFor()
  assert.equal(await cees.page.locator(`.market-panel [data-tip="${tipId}"] .market-panel__bring`).isDisabled(), true, 'brought in once')

  // The summary carries the provenance.
  const summary = await (await fetch(`${server.url}/api/events/${event}/summary?key=${server.keys.view}`)).json()
  const inSummary = summary.tables.find(t => t.id === 'a').lanes.doorpakken.find(n => n.id === note.id)
  assert.deepEqual(inSummary.provenance, { stand: 'markt-ot2', tip: tipId })

  // A visitor takes back only her own tip.
  const question = (await standState(team)).tips.find(t => t.kind === 'vraag').id
  assert.equal(await anna.page.locator(`[data-tip="${question}"] .stand__remove`).count(), 0, 'no remove on someone else\'s tip')
  await bram.page.locator(`[data-tip="${question}"] .stand__remove`).click()
  await waitFor(team, () => window.__werktafel.stand().tips.length === 2, undefined, 'Bram\'s question gone at the team')
  for (const a of [team, anna, bram, overview, cees]) await a.context.close()
})

test('the start page shows the market or the tables as the facilitator switches', async () => {
  const fac = await actor(browser, 'Femke')
  const anna = await actor(browser, 'Anna')
  await openConsole(fac, server, event)
  const startMode = async () => {
    await anna.page.goto(`${server.url}/e/${event}?key=${server.keys.join}`)
    await waitFor(anna, () => window.__werktafel?.page === 'start' && window.__werktafel.ready, undefined, 'the start page')
    return await anna.page.evaluate(() => window.__werktafel.startMode)
  }
  await fac.page.getByRole('combobox', { name: 'Startpagina toont' }).selectOption('markt')
  await fac.page.locator('.console__notice', { hasText: 'de markt' }).waitFor()
  assert.equal(await startMode(), 'markt')
  assert.equal(await anna.page.locator('.start-market .market-card').count(), 6)
  assert.equal(await anna.page.locator('.tables').isHidden(), true)
  // The way over to the tables is one link.
  await anna.page.getByRole('link', { name: 'Naar de werktafels' }).click()
  await waitFor(anna, () => window.__werktafel.startMode === 'werktafels' && !document.querySelector('.tables').hidden, undefined, 'the tables')

  await fac.page.getByRole('combobox', { name: 'Startpagina toont' }).selectOption('werktafels')
  await fac.page.locator('.console__notice', { hasText: 'de werktafels' }).waitFor()
  assert.equal(await startMode(), 'werktafels')
  assert.equal(await anna.page.locator('.start-market').count(), 0)
  await fac.page.getByRole('combobox', { name: 'Startpagina toont' }).selectOption('auto')
  await fac.page.locator('.console__notice', { hasText: 'volgens het programma' }).waitFor()
  for (const a of [fac, anna]) await a.context.close()
})
