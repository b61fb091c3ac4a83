// Scenario 3: how the start page and a busy board look on a 1280×800 laptop
// and a 390×844 phone. Writes PNGs to tests/e2e/artifacts/ for a person to
// look at, and checks the layout facts that a glance would check.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { actor, closeWorld, openBoard, openConsole, openWorld, waitFor } from './support.mjs'
import { busyTable, busyTables, seedNotes } from './seed.mjs'

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

/**
 * Every page at 1920×1080 (a projector, a big screen), with a day's worth in it: busy
 * tables, table D on the poster with arrows and markers, two written stands with tips, a
 * lecture with pinned insights and next steps by follow-up. Writes `artifacts/day-*.png`
 * for a person to look at; checks that no page scrolls sideways.
 */
test('every page of the day at 1920×1080', async () => {
  const BIG = { width: 1920, height: 1080 }
  const tables = busyTables()
  // Table D's notes also on the poster, spread over the droomproces steps.
  const poster = tables.d.map((n, i) => ({ ...n, posterX: 80 + (i % 4) * 360, posterY: 330 + Math.floor(i / 4) * 170 }))
  const seeds = await Promise.all([
    ...['b', 'c'].map(t => seedNotes(server, event, t, tables[t], 'day')),
    seedNotes(server, event, 'd', poster, 'day', {
      arrows: [[0, 2], [2, 6], [3, 7]],
      markers: [{ kind: 'actor', label: 'Gebiedsregisseur', x: 1400, y: 120 }, { kind: 'tussenstap', label: 'Bestuurlijk akkoord', x: 800, y: 880 }],
    }),
  ])
  const fac = await actor(browser, 'Femke', { viewport: BIG })
  await openConsole(fac, server, event)
  await fac.page.locator('.console-table[data-table="d"]').getByRole('button', { name: 'Poster', exact: true }).click()

  // The market: OT 2 and OT 6 write their stands, visitors tip them.
  const team = await actor(browser, 'Tessa (OT 2)', { viewport: BIG })
  const visitor = await actor(browser, 'Anna')
  for (const [n, status, ambitions, tips] of [
    [2, 'Routekaart in concept; de catalogus van werkvormen is voor de helft gevuld en wordt getest in drie gemeenten.', 'Voor de zomer tien gemeenten aan boord en een gedeelde programmeertafel per stad.',
      ['Kijk naar de intervisies van Utrecht', 'Begin klein, met één wijk als proeftuin', 'Wie beheert de catalogus straks?']],
    [6, 'Inventarisatie van knellende regels is klaar: 42 knelpunten in zes thema\'s.', 'Een experimenteerbepaling voor drie pilots.', ['Neem de Omgevingswet-experts mee']],
  ]) {
    for (const a of [team, visitor]) {
      await a.page.goto(`${server.url}/e/${event}/markt/${n}?key=${server.keys.join}`)
      await waitFor(a, () => window.__werktafel?.page === 'stand' && window.__werktafel.synced && window.__werktafel.ready, undefined, `the stand of OT ${n}`)
    }
    await team.page.getByLabel('Waar staan we').fill(status)
    await team.page.getByLabel('Ambities').fill(ambitions)
    await team.page.getByLabel('Titel van de link').fill('Catalogus van werkvormen')
    await team.page.getByLabel('Adres (https://…)').fill('https://example.org/catalogus')
    await team.page.getByRole('button', { name: 'Link toevoegen' }).click()
    for (const tip of tips) {
      await visitor.page.getByLabel('Je tip of vraag').fill(tip)
      await visitor.page.getByRole('button', { name: 'Achterlaten' }).click()
      await waitFor(visitor, tip => window.__werktafel.stand().tips.some(t => t.text === tip), tip, `"${tip}" on the stand`)
    }
    const first = (await visitor.page.evaluate(() => window.__werktafel.stand().tips))[0].id
    await visitor.page.locator(`[data-tip="${first}"] .tip__useful`).click()
    await waitFor(team, ([status, n]) => document.querySelector('#stand-status')?.value === status && window.__werktafel.stand().tips.length === n &&
      window.__werktafel.stand().materials.length === 1, [status, tips.length], `OT ${n}'s stand complete`)
  }
  await shoot(team, 'day-stand-1920')

  // The lecture: insights from phones, two pinned; next steps named in the closing.
  const phone = await actor(browser, 'Eva', { viewport: PHONE })
  await phone.page.goto(`${server.url}/e/${event}/zaal?key=${server.keys.join}`)
  await waitFor(phone, () => window.__werktafel?.page === 'lecture' && window.__werktafel.synced && window.__werktafel.ready, undefined, 'the lecture board')
  const insights = ['De straat is een verblijfsplek, geen doorgang', 'Meet het gebruik, niet alleen de intensiteit', 'Hoe betrekken we ondernemers bij de herinrichting?', 'Beheer begint bij het ontwerp']
  for (const text of insights) {
    const input = phone.page.getByRole('textbox', { name: 'Jouw inzicht of vraag' })
    await input.fill(text)
    await input.press('Enter')
    await waitFor(phone, text => window.__werktafel.lecture().items.some(i => i.text === text), text, `"${text}" on the lecture board`)
  }
  await fac.page.goto(`${server.url}/e/${event}/zaal?key=${server.keys.facilitate}`)
  await waitFor(fac, n => window.__werktafel?.page === 'lecture' && window.__werktafel.lecture().facilitator && window.__werktafel.lecture().items.length === n, insights.length, 'the lecture at the facilitator')
  for (const text of insights.slice(0, 2)) {
    await fac.page.locator('.insight', { hasText: text }).getByRole('button', { name: /vastpinnen/ }).click()
    await waitFor(fac, text => window.__werktafel.lecture().items.find(i => i.text === text)?.pinned !== null, text, `"${text}" pinned`)
  }
  await shoot(fac, 'day-lecture-1920')
  for (const [text, owner, followUp] of [['Werksessie over het afwegingskader', 'OT 1', 'werksessie'], ['Zomertour langs drie proeftuinwijken', 'OT 2', 'zomertour'], ['Handreiking voor raadsleden', 'Tafel B', 'anders']]) {
    const res = await fetch(`${server.url}/api/events/${event}/next-steps?key=${server.keys.facilitate}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text, owner, followUp }),
    })
    assert.equal(res.status, 201, `next step "${text}": ${await res.text()}`)
  }

  // The start page in either mode, the market overview and the console.
  for (const mode of ['markt', 'werktafels']) {
    await openConsole(fac, server, event)
    await fac.page.getByRole('combobox', { name: 'Startpagina toont' }).selectOption(mode)
    await fac.page.locator('.console__notice', { hasText: mode === 'markt' ? 'de markt' : 'de werktafels' }).waitFor()
    await visitor.page.setViewportSize(BIG)
    await visitor.page.goto(`${server.url}/e/${event}?key=${server.keys.join}`)
    await waitFor(visitor, mode => window.__werktafel?.page === 'start' && window.__werktafel.ready && window.__werktafel.startMode === mode, mode, 'the start page')
    await shoot(visitor, `day-start-${mode}-1920`)
  }
  await shoot(fac, 'day-console-1920')
  await visitor.page.goto(`${server.url}/e/${event}/markt?key=${server.keys.join}`)
  await waitFor(visitor, () => window.__werktafel?.page === 'market' && window.__werktafel.market()?.stands.length === 6 &&
    [...document.querySelectorAll('.market-card__qr')].every(i => i.complete && i.naturalWidth > 0), undefined, 'the market overview')
  await shoot(visitor, 'day-market-1920')

  // A board in lanes (table A, seeded before) and table D on the poster.
  await visitor.page.goto(`${server.url}/e/${event}/t/a?key=${server.keys.join}`)
  await waitFor(visitor, n => window.__werktafel?.page === 'board' && window.__werktafel.synced && document.querySelectorAll('.note').length === n, busyTable().length, 'table A\'s notes')
  await shoot(visitor, 'day-board-1920')
  await visitor.page.goto(`${server.url}/e/${event}/t/d?key=${server.keys.join}`)
  await waitFor(visitor, n => window.__werktafel?.page === 'board' && window.__werktafel.synced && !document.querySelector('.poster').hidden &&
    document.querySelector('.poster__underlay').complete && document.querySelectorAll('.poster-note').length === n &&
    document.querySelectorAll('.poster__arrows line').length === 3 && document.querySelectorAll('.poster-marker').length === 2, poster.length, 'table D on the poster')
  await shoot(visitor, 'day-poster-1920')

  // The plenary: the tables, then the day view.
  const projector = await actor(browser, 'Plenair', { viewport: BIG })
  await projector.page.goto(`${server.url}/e/${event}/plenair?key=${server.keys.view}`)
  await waitFor(projector, () => window.__werktafel?.live === 'live' && window.__werktafel.summary?.tables.every(t => t.noteCount > 0) &&
    document.querySelectorAll('.pl-tile').length === 4, undefined, 'the plenary with four busy tables')
  await shoot(projector, 'day-plenary-tables-1920')
  await projector.page.goto(`${server.url}/e/${event}/terugkoppeling?key=${server.keys.view}`)
  await waitFor(projector, () => window.__werktafel?.live === 'live' && document.querySelectorAll('.pl-day__pinned li').length === 2 &&
    document.querySelectorAll('.pl-closing__step').length === 3 && document.querySelectorAll('.pl-day__stands .pl-stand__tips li').length >= 4,
  undefined, 'the day view with the market, the lecture and the next steps')
  await shoot(projector, 'day-plenary-day-1920')

  for (const s of seeds) s.close()
  for (const a of [fac, team, visitor, phone, projector]) await a.context.close()
})

async function shoot (a, name) {
  await assertNoHorizontalScroll(a)
  await a.page.screenshot({ path: join(dir, `${name}.png`) })
}
