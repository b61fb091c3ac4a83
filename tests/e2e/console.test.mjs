// The facilitator console: one control for all tables at once reaches every
// table (a fresh server, so every table starts in "schrijven"), and the
// console as it looks with four tables locked.
import { test, before, after } from 'node:test'
import { join } from 'node:path'
import { actor, closeWorld, newNoteWithText, openBoard, openConsole, openWorld, waitFor } from './support.mjs'

let server, browser, event, dir

before(async () => ({ server, browser, event, dir } = await openWorld()))
after(() => closeWorld({ server, browser }))

function seesControl (a, want, what) {
  return waitFor(a, want => {
    const c = window.__werktafel.facilitation.control()
    return Object.entries(want).every(([k, v]) => c[k] === v)
  }, want, what ?? `control ${JSON.stringify(want)}`)
}

test('"Alle tafels": pens down reaches every table, and unlocking lets them write again', async () => {
  const fac = await actor(browser, 'Femke')
  const people = await Promise.all(['a', 'b', 'c', 'd'].map(t => actor(browser, `Deelnemer ${t.toUpperCase()}`)))
  await openConsole(fac, server, event)
  await Promise.all(people.map((p, i) => openBoard(p, server, event, 'abcd'[i])))
  const allPanel = fac.page.locator('.console-all')
  await allPanel.getByRole('button', { name: 'Pennen neer (vergrendelen)' }).click()
  for (const p of people) {
    await seesControl(p, { locked: true })
    await waitFor(p, () => !window.__werktafel.facilitation.editable() && /Pennen neer/.test(document.querySelector('.phase-banner__text')?.textContent ?? ''),
      undefined, 'the locked notice and a read-only board')
  }
  await waitFor(fac, () => window.__werktafel.console().tables.every(t => t.control.locked) && document.querySelectorAll('.console-table__lock[data-locked="true"]').length === 4,
    undefined, 'every table shown locked in the console')
  await fac.page.screenshot({ path: join(dir, 'console.png'), fullPage: true })

  // A countdown for everyone: every board shows the time left.
  await allPanel.getByRole('spinbutton', { name: 'Timer (minuten)' }).fill('5')
  await allPanel.getByRole('button', { name: 'Start timer' }).click()
  for (const p of people) {
    await waitFor(p, () => /^nog [45]:\d\d$/.test(document.querySelector('.phase-banner__timer:not([hidden])')?.textContent ?? ''), undefined, 'a five-minute countdown in the banner')
  }

  await allPanel.getByRole('button', { name: 'Ontgrendelen: verder schrijven' }).click()
  for (const p of people) await waitFor(p, () => window.__werktafel.facilitation.editable(), undefined, 'an editable board again')
  await newNoteWithText(people[3], 'Baten per partij in beeld')
  await waitFor(people[3], () => window.__werktafel.notes().some(n => n.text === 'Baten per partij in beeld'), undefined, 'the new note')
  for (const a of [fac, ...people]) await a.context.close()
})
