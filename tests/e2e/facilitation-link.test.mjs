// Who may hand on the participant link, and how the facilitator takes it
// back: the plenary's start page shows no participant QR code; renewing the
// link in the console (with a confirmation) disconnects a participant who
// came in with the old one, shows the new link and codes, and the new link
// brings her back with a fresh signed identity. A note's author name is
// marked as self-declared.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { actor, closeWorld, newNoteWithText, openBoard, openConsole, openWorld, waitFor } from './support.mjs'

let server, browser, event

before(async () => ({ server, browser, event } = await openWorld()))
after(() => closeWorld({ server, browser }))

test('the plenary start page shows no participant QR code; a participant\'s does', async () => {
  const screen = await actor(browser, 'Plenair')
  await screen.page.goto(`${server.url}/e/${event}?key=${server.keys.view}`)
  await waitFor(screen, () => window.__werktafel?.ready && document.querySelector('.start__qr') === null, undefined, 'a ready start page without the QR code')
  const anna = await actor(browser, 'Anna')
  await anna.page.goto(`${server.url}/e/${event}?key=${server.keys.join}`)
  await waitFor(anna, () => document.querySelector('.start__qr')?.hidden === false, undefined, 'the QR code on a participant\'s start page')
  for (const a of [screen, anna]) await a.context.close()
})

test('renewing the participant link disconnects the old one and the new link works', async () => {
  const fac = await actor(browser, 'Femke')
  const anna = await actor(browser, 'Anna')
  await openConsole(fac, server, event)
  await openBoard(anna, server, event, 'a')
  await waitFor(anna, () => window.__werktafel.facilitation.draftsReady(), undefined, 'Anna\'s signed identity and drafts')

  await fac.page.getByRole('button', { name: 'Deelnemerslink vernieuwen' }).click()
  await fac.page.getByRole('button', { name: 'Ja, vernieuwen' }).click()
  const url = fac.page.locator('.console-link__url')
  await url.waitFor()
  const link = await url.inputValue()
  const key = new URL(link).searchParams.get('key')
  assert.ok(key && key !== server.keys.join, `a new key in ${link}`)
  server.keys.join = key // later scenarios come in with the new link
  assert.equal(await fac.page.locator('[data-qr="start"] img').getAttribute('src').then(s => new URL(s, server.url).searchParams.get('v')), '1', 'the QR codes are redrawn')

  await waitFor(anna, () => window.__werktafel.status !== 'connected', undefined, 'Anna\'s old link disconnected')
  await anna.page.goto(`${link.replace(/\/e\/[^?]+/, `/e/${event}/t/a`)}`)
  await waitFor(anna, () => window.__werktafel?.page === 'board' && window.__werktafel.status === 'connected' && window.__werktafel.synced, undefined, 'Anna back with the new link')
  await waitFor(anna, () => window.__werktafel.facilitation.draftsReady(), undefined, 'a new signed identity and drafts')
  for (const a of [fac, anna]) await a.context.close()
})

test('a note\'s author name is marked as self-declared', async () => {
  const anna = await actor(browser, 'Anna')
  await openBoard(anna, server, event, 'c')
  await newNoteWithText(anna, 'Wie schrijft dit?')
  const author = anna.page.locator('.note__author', { hasText: 'Anna' }).first()
  await author.waitFor()
  assert.match(await author.getAttribute('title') ?? '', /Anna: naam zoals de schrijver die zelf opgaf, niet gecontroleerd/)
  await anna.context.close()
})
