// The lecture (15:30) and the closing feedback (16:15), with actors: two participants on
// their phones post an insight and a question on the lecture board and +1 each other (the
// server counts one per person); the facilitator pins an insight; the plenary's day view
// (a 1920×1080 projector) shows the pinned insight and, as the facilitator adds it on the
// day view of their own laptop, a new next step — live, through the summary feed.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { actor, closeWorld, openWorld, waitFor } from './support.mjs'

const PHONE = { width: 390, height: 844 }
const PROJECTOR = { width: 1920, height: 1080 }

let server, browser, event, dir

before(async () => ({ server, browser, event, dir } = await openWorld()))
after(() => closeWorld({ server, browser }))

/** Opens the lecture board with `key` and waits until it is synced and knows who it is. */
async function openLecture (a, key = server.keys.join) {
  await a.page.goto(`${server.url}/e/${event}/zaal?key=${key}`)
  await waitFor(a, () => window.__werktafel?.page === 'lecture' && window.__werktafel.status === 'connected' &&
    window.__werktafel.synced && window.__werktafel.ready, undefined, 'the lecture board')
}

const items = a => a.page.evaluate(() => window.__werktafel.lecture().items)

async function post (a, text, kind = 'inzicht') {
  await a.page.getByRole('combobox', { name: /Soort/ }).selectOption(kind)
  const input = a.page.getByRole('textbox', { name: 'Jouw inzicht of vraag' })
  await input.fill(text)
  await input.press('Enter')
  await waitFor(a, text => window.__werktafel.lecture().items.some(i => i.text === text), text, `"${text}" on the board`)
}

/** The +1 button of the insight with `text`. */
const plusButton = (a, text) => a.page.locator('.insight', { hasText: text }).locator('.insight__plus')

test('insights from phones, a +1 once per person, a pin by the facilitator, all on the day view live', async () => {
  const anna = await actor(browser, 'Anna', { viewport: PHONE })
  const bram = await actor(browser, 'Bram', { viewport: PHONE })
  const host = await actor(browser, 'Begeleider')
  const plenary = await actor(browser, 'Plenair', { viewport: PROJECTOR })
  await openLecture(anna)
  await openLecture(bram)

  await post(anna, 'De straat is een verblijfsplek, geen doorgang')
  await post(bram, 'Hoe meten we of een straat leefbaar is?', 'vraag')
  await waitFor(anna, () => window.__werktafel.lecture().items.length === 2, undefined, 'both items on Anna\'s phone')

  // Bram gives Anna's insight a +1; a second click takes it back, a third gives it again.
  const insight = 'De straat is een verblijfsplek, geen doorgang'
  await plusButton(bram, insight).click()
  await waitFor(anna, text => window.__werktafel.lecture().items.find(i => i.text === text)?.plusOnes === 1, insight, 'one +1 on Anna\'s phone')
  assert.equal(await plusButton(bram, insight).getAttribute('aria-pressed'), 'true')
  // A second +1 by the same person is refused by the server, whatever the page does.
  const id = (await items(bram)).find(i => i.text === insight).id
  const again = await bram.page.evaluate(async ([event, id]) => {
    const key = localStorage.getItem(`werktafel.key.${event}`)
    const token = JSON.parse(localStorage.getItem(`werktafel.identity.${event}`)).token
    const res = await fetch(`/api/events/${event}/zaal/plus-ones?key=${key}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token, insightId: id, delta: 1 }) })
    return { status: res.status, body: await res.json() }
  }, [event, id])
  assert.deepEqual([again.status, again.body.code], [409, 'already'])
  await plusButton(anna, insight).click()
  await waitFor(bram, text => window.__werktafel.lecture().items.find(i => i.text === text)?.plusOnes === 2, insight, 'two +1s on Bram\'s phone')

  // Participants see no pin button; the facilitator does, and pins.
  assert.equal(await anna.page.locator('.insight__pin').count(), 0)
  await openLecture(host, server.keys.facilitate)
  await waitFor(host, () => window.__werktafel.lecture().facilitator, undefined, 'the facilitator\'s controls')
  await plenary.page.goto(`${server.url}/e/${event}/terugkoppeling?key=${server.keys.view}`)
  await waitFor(plenary, () => window.__werktafel?.live === 'live' && document.querySelector('.pl-day'), undefined, 'the day view')
  await host.page.locator('.insight', { hasText: insight }).getByRole('button', { name: /vastpinnen/ }).click()
  await waitFor(anna, text => window.__werktafel.lecture().items.find(i => i.text === text)?.pinned === 0, insight, 'the pin on Anna\'s phone')
  await plenary.page.waitForFunction(text => [...document.querySelectorAll('.pl-day__pinned .pl-insight__text')].some(e => e.textContent === text),
    insight, { timeout: 15_000, polling: 'raf' })

  // The facilitator names a next step on the day view; the projector shows it.
  await host.page.goto(`${server.url}/e/${event}/terugkoppeling?key=${server.keys.facilitate}`)
  await waitFor(host, () => window.__werktafel?.live === 'live' && document.querySelector('.pl-closing__add'), undefined, 'the facilitator\'s day view')
  const add = host.page.locator('.pl-closing__add')
  await add.getByRole('textbox', { name: 'Vervolgstap' }).fill('Werksessie over leefbare straten')
  await add.getByRole('textbox', { name: 'Wie' }).fill('OT 3')
  await add.getByRole('combobox', { name: 'Vervolg' }).selectOption('werksessie')
  await add.getByRole('button', { name: 'Toevoegen' }).click()
  await plenary.page.waitForFunction(() => [...document.querySelectorAll('.pl-closing__text')].some(e => e.textContent === 'Werksessie over leefbare straten'),
    undefined, { timeout: 15_000, polling: 'raf' })
  // Edited on the facilitator's screen: its source becomes the pinned insight.
  const step = host.page.locator('.pl-closing__step').first()
  await step.getByRole('combobox', { name: 'Komt uit' }).selectOption({ label: `Zaal: ${insight}` })
  await plenary.page.waitForFunction(text => [...document.querySelectorAll('.pl-closing__meta')].some(e => e.textContent.includes(text)),
    `Lezing: ${insight}`, { timeout: 15_000, polling: 'raf' })
  const meta = await plenary.page.locator('.pl-closing__meta').first().textContent()
  assert.equal(meta, `OT 3 · Lezing: ${insight}`)
  // The viewer's key cannot change it, whatever a page sends.
  const refused = await plenary.page.evaluate(async event => {
    const key = localStorage.getItem(`werktafel.key.${event}`)
    return (await fetch(`/api/events/${event}/next-steps?key=${key}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"x"}' })).status
  }, event)
  assert.equal(refused, 403)

  await anna.page.screenshot({ path: join(dir, 'lecture-phone.png'), fullPage: true })
  await plenary.page.screenshot({ path: join(dir, 'plenary-day-view.png') })
  for (const a of [anna, bram, host, plenary]) await a.context.close()
})
