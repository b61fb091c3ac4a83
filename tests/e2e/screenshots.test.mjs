// Scenario 3: how the start page and a busy board look on a 1280×800 laptop
// and a 390×844 phone. Writes PNGs to tests/e2e/artifacts/ for a person to
// look at, and checks the layout facts that a glance would check.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { actor, closeWorld, openBoard, openWorld, waitFor } from './support.mjs'
import { busyTable, seedNotes } from './seed.mjs'

const LAPTOP = { width: 1280, height: 800 }
const PHONE = { width: 390, height: 844 }

let server, browser, event, seed, dir

before(async () => {
  ({ server, browser, event, dir } = await openWorld())
  seed = await seedNotes(server, event, 'a', busyTable())
})
after(async () => {
  seed?.close()
  await closeWorld({ server, browser })
})

for (const [label, viewport] of [['laptop', LAPTOP], ['phone', PHONE]]) {
  test(`start page on a ${label}`, async () => {
    const a = await actor(browser, 'Anna', { viewport })
    await a.page.goto(`${server.url}/e/${event}?key=${server.keys.join}`)
    await waitFor(a, () => window.__werktafel?.page === 'start' && window.__werktafel.ready, undefined, 'the start page')
    assert.equal(await a.page.locator('.table-card').count(), 4, 'four work tables')
    assert.match(await a.page.locator('.table-card[data-table="a"]').textContent(), /Vitale systemen/)
    await assertNoHorizontalScroll(a)
    await a.page.screenshot({ path: join(dir, `start-${label}.png`), fullPage: label === 'phone' })
    await a.context.close()
  })

  test(`busy board on a ${label}`, async () => {
    const anna = await actor(browser, 'Anna', { viewport })
    const bram = await actor(browser, 'Bram Tuinman')
    await openBoard(anna, server, event, 'a')
    await openBoard(bram, server, event, 'a')
    const total = busyTable().length
    await waitFor(anna, n => document.querySelectorAll('.note').length === n, total, `${total} notes on the board`)
    // Bram puts his caret in a note so the screenshot shows the presence outline.
    await bram.page.locator(`[data-note-id="${seed.ids[4]}"] textarea`).click()
    await waitFor(anna, id => document.querySelector(`[data-note-id="${id}"] .note__editor`), seed.ids[4], 'Bram\'s tag on a note')
    await waitFor(anna, () => (document.querySelector('.board-header__question')?.textContent ?? '').length > 20, undefined, 'the table question')
    await assertNoHorizontalScroll(anna)
    if (label === 'laptop') {
      const tops = await anna.page.locator('.lane').evaluateAll(ls => ls.map(l => Math.round(l.getBoundingClientRect().top)))
      assert.equal(new Set(tops).size, 1, `three lanes side by side, got tops ${tops}`)
      assert.equal(await overlappingNotes(anna), 0, 'no notes overlap')
    } else {
      const lefts = await anna.page.locator('.lane').evaluateAll(ls => ls.map(l => Math.round(l.getBoundingClientRect().left)))
      assert.equal(new Set(lefts).size, 1, `lanes stacked on a phone, got lefts ${lefts}`)
    }
    await anna.page.screenshot({ path: join(dir, `board-${label}.png`), fullPage: label === 'phone' })
    for (const a of [anna, bram]) await a.context.close()
  })
}

async function assertNoHorizontalScroll (a) {
  const [scroll, client] = await a.page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth])
  assert.ok(scroll <= client, `page scrolls sideways: ${scroll}px content in ${client}px`)
}

async function overlappingNotes (a) {
  return a.page.evaluate(() => {
    const rects = [...document.querySelectorAll('.note')].map(n => n.getBoundingClientRect())
    let count = 0
    for (let i = 0; i < rects.length; i++) {
      for (let j = i + 1; j < rects.length; j++) {
        const [p, q] = [rects[i], rects[j]]
        if (p.left < q.right && q.left < p.right && p.top < q.bottom && q.top < p.bottom) count++
      }
    }
    return count
  })
}
