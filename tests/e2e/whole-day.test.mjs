// The whole atelier day as one scenario, each actor in their own browser context: in the
// morning team OT 2 writes its stand and two visitors tip it (one tip is marked useful); in
// the afternoon table A brings that tip in from the market panel, the facilitator switches
// the table to the poster, and a participant places two notes, draws an arrow between them
// and adds an actor; at the lecture an insight is posted from a phone and pinned; at the
// closing feedback the facilitator adds a next step for the "zomertour". The projector's
// day view shows the top tip, the pinned insight and the next step as they happen (the
// latency is measured and printed, not asserted), and the werkboek, printed to an A4 PDF
// by headless Chromium, holds every item.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { actor, closeWorld, openBoard, openConsole, openWorld, waitFor } from './support.mjs'

const PHONE = { width: 390, height: 844 }
const PROJECTOR = { width: 1920, height: 1080 }

let server, browser, event, dir

before(async () => ({ server, browser, event, dir } = await openWorld()))
after(() => closeWorld({ server, browser }))

const STAND = {
  status: 'Routekaart in concept, catalogus in de maak',
  ambitions: 'Voor de zomer tien gemeenten aan boord',
  link: ['Catalogus', 'https://example.org/catalogus'],
}
const TIP_FIRST = 'Kijk naar de intervisies van Utrecht'
const TIP_TOP = 'Begin klein, met één wijk als proeftuin'
const POSTER_NOTES = ['Kansenkaart samen maken', 'Beheerders eerder aan tafel']
const ACTOR = 'Gebiedsregisseur'
const INSIGHT = 'De straat is een verblijfsplek, geen doorgang'
const STEP = 'Zomertour langs drie proeftuinwijken'

async function openStand (a) {
  await a.page.goto(`${server.url}/e/${event}/markt/2?key=${server.keys.join}`)
  await waitFor(a, () => window.__werktafel?.page === 'stand' && window.__werktafel.synced && window.__werktafel.ready, undefined, 'the stand of OT 2')
}

async function leaveTip (a, text) {
  await a.page.getByLabel('Je tip of vraag').fill(text)
  await a.page.getByRole('button', { name: 'Achterlaten' }).click()
  await waitFor(a, text => window.__werktafel.stand().tips.some(t => t.text === text), text, `"${text}" on the stand`)
}

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

/**
 * Arms a watch on the projector: the moment (wall clock, shared by every context of this
 * browser) `check` first holds on its DOM is kept as `window.__seen[name]`. Armed before
 * the action, so the moment is the first paint-time DOM state that shows it.
 */
async function watch (a, name, check, arg) {
  await a.page.evaluate(([name, source, arg]) => {
    const check = new Function('arg', `return (${source})(arg)`)
    window.__seen ??= {}
    if (check(arg)) throw new Error(`${name} is on the day view before it happened`)
    const observer = new MutationObserver(() => {
      if (check(arg)) { window.__seen[name] = Date.now(); observer.disconnect() }
    })
    observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true })
  }, [name, check.toString(), arg])
}

/** Waits until the watch `name` fired; returns the milliseconds since `since`. */
async function seen (a, name, since) {
  await waitFor(a, name => window.__seen?.[name] !== undefined, name, `"${name}" on the projector's day view`)
  return (await a.page.evaluate(name => window.__seen[name], name)) - since
}

const topTipOfOt2 = text => [...document.querySelectorAll('.pl-day__stands .pl-stand')]
  .find(li => li.querySelector('.pl-stand__ot')?.textContent === 'OT 2')
  ?.querySelector('.pl-stand__tips li')?.textContent === text
const pinnedInsight = text => [...document.querySelectorAll('.pl-day__pinned .pl-insight__text')].some(e => e.textContent === text)
const zomertourStep = text => [...document.querySelectorAll('.pl-closing__step')]
  .some(li => li.dataset.followUp === 'zomertour' && li.querySelector('.pl-closing__text')?.textContent === text)

test('the whole day: market, tables, poster, lecture and closing feedback, live on the day view and in the werkboek', async t => {
  // The projector shows the day view all day; every part below is watched arriving on it.
  const projector = await actor(browser, 'Projector', { viewport: PROJECTOR })
  await projector.page.goto(`${server.url}/e/${event}/terugkoppeling?key=${server.keys.view}`)
  await waitFor(projector, () => window.__werktafel?.live === 'live' && document.querySelector('.pl-day'), undefined, 'the day view')
  const latency = {}

  // 9:30, the market. The team writes its stand; two visitors tip it.
  const team = await actor(browser, 'Tessa (OT 2)')
  const anna = await actor(browser, 'Anna')
  const bram = await actor(browser, 'Bram')
  for (const a of [team, anna, bram]) await openStand(a)
  await team.page.getByLabel('Waar staan we').fill(STAND.status)
  await team.page.getByLabel('Ambities').fill(STAND.ambitions)
  await team.page.getByLabel('Titel van de link').fill(STAND.link[0])
  await team.page.getByLabel('Adres (https://…)').fill(STAND.link[1])
  await team.page.getByRole('button', { name: 'Link toevoegen' }).click()
  await waitFor(anna, s => {
    const stand = window.__werktafel.stand()
    return document.querySelector('#stand-status')?.value === s.status && stand.materials.some(m => m.url === s.link[1])
  }, STAND, 'the team\'s stand at Anna')
  await leaveTip(anna, TIP_FIRST)
  await leaveTip(bram, TIP_TOP)
  await waitFor(team, () => window.__werktafel.stand().tips.length === 2, undefined, 'both tips at the team')
  const topId = (await team.page.evaluate(() => window.__werktafel.stand().tips)).find(t => t.text === TIP_TOP).id

  // Anna marks Bram's tip useful: it becomes the stand's top tip on the projector.
  await waitFor(projector, text => document.querySelector('.pl-day__stands')?.textContent.includes(text), TIP_TOP, 'both tips on the day view')
  await watch(projector, 'top tip', topTipOfOt2, TIP_TOP)
  const marked = Date.now()
  await anna.page.locator(`[data-tip="${topId}"] .tip__useful`).click()
  latency['top tip'] = await seen(projector, 'top tip', marked)
  await waitFor(team, id => window.__werktafel.stand().tips.find(t => t.id === id)?.useful === 1, topId, 'the useful mark at the team')

  // The afternoon, table A (linked to OT 2): Cees brings the top tip in from the market panel.
  const cees = await actor(browser, 'Cees')
  await openBoard(cees, server, event, 'a')
  await waitFor(cees, id => window.__werktafel.marketTips().some(t => t.id === id), topId, 'the tip in the side panel')
  await cees.page.locator(`.market-panel [data-tip="${topId}"] .market-panel__bring`).click()
  await waitFor(cees, id => window.__werktafel.notes().some(n => n.provenance?.tip === id), topId, 'the tip as a note')
  const broughtIn = (await cees.page.evaluate(() => window.__werktafel.notes())).find(n => n.provenance)
  assert.deepEqual(broughtIn.provenance, { stand: 'markt-ot2', tip: topId })
  assert.equal(broughtIn.text, TIP_TOP)
  await cees.page.locator(`[data-note-id="${broughtIn.id}"] .note__source`, { hasText: 'uit de markt · OT 2' }).waitFor()

  // The facilitator switches table A to the poster; Dirk places two notes, draws an arrow
  // between them and adds an actor.
  const fac = await actor(browser, 'Femke')
  const dirk = await actor(browser, 'Dirk')
  await openConsole(fac, server, event)
  await openBoard(dirk, server, event, 'a')
  await fac.page.locator('.console-table[data-table="a"]').getByRole('button', { name: 'Poster', exact: true }).click()
  for (const a of [cees, dirk]) {
    await waitFor(a, () => window.__werktafel.facilitation.poster().view === 'poster' && !document.querySelector('.poster').hidden &&
      document.querySelector('.poster__underlay').complete, undefined, 'the poster view')
  }
  const [first, second] = [await posterNote(dirk, POSTER_NOTES[0]), await posterNote(dirk, POSTER_NOTES[1])]
  await dirk.page.locator(`.poster-note[data-note-id="${first}"]`).focus()
  await dirk.page.keyboard.press('a')
  await dirk.page.locator(`.poster-note[data-note-id="${second}"]`).focus()
  await dirk.page.keyboard.press('Enter')
  await dirk.page.getByRole('button', { name: '+ Actor' }).click()
  await waitFor(dirk, () => document.activeElement?.classList.contains('poster-marker__label'), undefined, 'the marker\'s label field')
  await dirk.page.keyboard.type(ACTOR)
  await dirk.page.keyboard.press('Enter')
  // Cees sees it all on his poster: the arrow goes from the first note to the second.
  await waitFor(cees, ([first, second, actor]) => {
    const p = window.__werktafel.facilitation.poster()
    return p.placed[first] && p.placed[second] && p.arrows.length === 1 && p.arrows[0].from === first && p.arrows[0].to.id === second &&
      p.markers.length === 1 && p.markers[0].kind === 'actor' && p.markers[0].label === actor &&
      document.querySelectorAll('.poster-note').length === 2 && document.querySelectorAll('.poster__arrows line').length === 1
  }, [first, second, ACTOR], 'Dirk\'s notes, arrow and actor on Cees\'s poster')

  // 15:30, the lecture: Eva posts an insight from her phone; the facilitator pins it.
  const eva = await actor(browser, 'Eva', { viewport: PHONE })
  await eva.page.goto(`${server.url}/e/${event}/zaal?key=${server.keys.join}`)
  await waitFor(eva, () => window.__werktafel?.page === 'lecture' && window.__werktafel.synced && window.__werktafel.ready, undefined, 'the lecture board')
  const input = eva.page.getByRole('textbox', { name: 'Jouw inzicht of vraag' })
  await input.fill(INSIGHT)
  await input.press('Enter')
  await fac.page.goto(`${server.url}/e/${event}/zaal?key=${server.keys.facilitate}`)
  await waitFor(fac, text => window.__werktafel?.page === 'lecture' && window.__werktafel.lecture().facilitator &&
    window.__werktafel.lecture().items.some(i => i.text === text), INSIGHT, 'Eva\'s insight at the facilitator')
  await watch(projector, 'pinned insight', pinnedInsight, INSIGHT)
  const pinned = Date.now()
  await fac.page.locator('.insight', { hasText: INSIGHT }).getByRole('button', { name: /vastpinnen/ }).click()
  latency['pinned insight'] = await seen(projector, 'pinned insight', pinned)

  // 16:15, the closing feedback: the facilitator names a next step on their day view.
  await fac.page.goto(`${server.url}/e/${event}/terugkoppeling?key=${server.keys.facilitate}`)
  await waitFor(fac, () => window.__werktafel?.live === 'live' && document.querySelector('.pl-closing__add'), undefined, 'the facilitator\'s day view')
  const add = fac.page.locator('.pl-closing__add')
  await add.getByRole('textbox', { name: 'Vervolgstap' }).fill(STEP)
  await add.getByRole('textbox', { name: 'Wie' }).fill('OT 2')
  await add.getByRole('combobox', { name: 'Vervolg' }).selectOption('zomertour')
  await watch(projector, 'next step', zomertourStep, STEP)
  const added = Date.now()
  await add.getByRole('button', { name: 'Toevoegen' }).click()
  latency['next step'] = await seen(projector, 'next step', added)

  // Everything is on the projector at once.
  const together = await projector.page.evaluate(([source, args]) => new Function('args', source)(args), [`
    const [tip, insight, step] = args
    return (${topTipOfOt2})(tip) && (${pinnedInsight})(insight) && (${zomertourStep})(step)`, [TIP_TOP, INSIGHT, STEP]])
  assert.ok(together, 'the day view shows the top tip, the pinned insight and the next step together')
  for (const [what, ms] of Object.entries(latency)) t.diagnostic(`day view latency, ${what}: ${ms} ms (action → DOM on the projector)`)

  // 17:00, the werkboek: the HTML export printed to A4 by headless Chromium.
  const html = await (await fetch(`${server.url}/api/events/${event}/export.html?key=${server.keys.view}`)).text()
  const text = await printToText(html)
  const missing = []
  const has = (fragment, what) => { if (!text.includes(fragment)) missing.push(`${what}: "${fragment}"`) }
  has(`Waar staan we: ${STAND.status}`, 'the stand\'s status')
  has(`Ambities: ${STAND.ambitions}`, 'the stand\'s ambitions')
  has(`${STAND.link[0]}: ${STAND.link[1]}`, 'the stand\'s link')
  has(TIP_FIRST, 'the first tip')
  has(`${TIP_TOP} (1 × nuttig`, 'the top tip with its useful mark')
  has(`${TIP_TOP} uit de markt OT 2`, 'the brought-in note with its provenance')
  for (const note of POSTER_NOTES) has(note, 'a poster note')
  has('Poster', 'the poster picture\'s heading')
  has(ACTOR, 'the actor on the poster')
  has(`Vastgepind voor de terugkoppeling ${INSIGHT}`, 'the pinned insight')
  has(STEP, 'the next step')
  // Under its follow-up's heading: "Zomertours" comes after the closing's steps heading, and
  // the step after it with no other follow-up heading between (pdftotext reads a table's
  // header cells out of order, so the order of headings and step is what is checked).
  const closing = text.indexOf('Vervolgstappen van de terugkoppeling')
  const heading = text.indexOf('Zomertours', closing)
  const step = text.indexOf(STEP, closing)
  if (!(closing >= 0 && heading > closing && step > heading && !/Werksessies|Anders/.test(text.slice(heading, step)))) {
    missing.push(`the next step under "Zomertours" (closing at ${closing}, heading at ${heading}, step at ${step})`)
  }
  assert.deepEqual(missing, [], `the werkboek PDF lacks:\n${missing.join('\n')}\n--- PDF text ---\n${text}`)
  // The poster picture in it draws the arrow between the two notes and the actor.
  assert.match(html, /<h3>Poster<\/h3>/)
  assert.equal((html.match(/marker-end="url\(#wt-arrowhead\)"/g) ?? []).length, 1, 'one arrow on the poster picture')

  for (const a of [projector, team, anna, bram, cees, fac, dirk, eva]) await a.context.close()
})

/** Prints `html` to an A4 PDF in headless Chromium and reads it back with pdftotext, whitespace folded. */
async function printToText (html) {
  const context = await browser.newContext()
  const page = await context.newPage()
  await page.setContent(html, { waitUntil: 'load' })
  // Kept in artifacts/ for a person to look at.
  const pdf = join(dir, 'werkboek-whole-day.pdf')
  await page.pdf({ path: pdf, format: 'A4', preferCSSPageSize: true, printBackground: true })
  await context.close()
  const { stdout } = await promisify(execFile)('pdftotext', [pdf, '-'], { maxBuffer: 64 << 20 })
    .catch(err => { throw new Error(`running pdftotext (apt-get install poppler-utils; .ci/run does): ${err.message}`) })
  return stdout.split(/\s+/).join(' ')
}
