// What the start page shows, by the programme clock and the overrides
// (web/src/start/startMode.ts), without a browser: the module is bundled with
// the web client's esbuild, as in schema.test.mjs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { repoRoot } from './support.mjs'

async function load () {
  const esbuild = await import(pathToFileURL(join(repoRoot, 'web/node_modules/esbuild/lib/main.js')).href)
  const out = await esbuild.build({
    entryPoints: [join(repoRoot, 'web/src/start/startMode.ts')],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    write: false,
    logLevel: 'silent',
    // programmeNow.ts pulls in the API and the dictionaries, which touch the DOM only when called.
    external: ['yjs'],
  })
  const dir = join(repoRoot, 'tests/node_modules/.cache/werktafel')
  await mkdir(dir, { recursive: true })
  const file = join(dir, `start-mode-${process.pid}.mjs`)
  await writeFile(file, out.outputFiles[0].text)
  return import(pathToFileURL(file).href)
}

globalThis.localStorage ??= { getItem: () => null, setItem: () => {} }
globalThis.document ??= { documentElement: {} }
const { startMode, byClock } = await load()

const programme = [
  { start: '09:30', end: '12:30', kind: 'markt', title: 'Markt', description: '' },
  { start: '12:30', end: '13:30', kind: 'lunch', title: 'Lunch', description: '' },
  { start: '13:30', end: '15:15', kind: 'werktafels', title: 'Werktafels', description: '' },
]
const at = (hhmm) => new Date(`2022-06-09T${hhmm}:00`)

test('by the clock: the market before and during it, the tables from its end', () => {
  assert.equal(byClock(programme, at('08:00')), 'markt')
  assert.equal(byClock(programme, at('09:30')), 'markt')
  assert.equal(byClock(programme, at('12:29')), 'markt')
  assert.equal(byClock(programme, at('12:30')), 'werktafels')
  assert.equal(byClock(programme, at('14:00')), 'werktafels')
  assert.equal(byClock(programme, at('23:00')), 'werktafels')
  assert.equal(byClock([], at('10:00')), 'werktafels')
})

test('the link\'s ?view= wins, then the facilitator\'s choice; no market, no market view', () => {
  const info = { hasMarket: true, startView: 'auto', programme }
  assert.equal(startMode(info, '', at('10:00')), 'markt')
  assert.equal(startMode({ ...info, startView: 'werktafels' }, '', at('10:00')), 'werktafels')
  assert.equal(startMode({ ...info, startView: 'markt' }, '', at('16:00')), 'markt')
  assert.equal(startMode({ ...info, startView: 'markt' }, '?view=werktafels', at('10:00')), 'werktafels')
  assert.equal(startMode(info, '?view=markt', at('16:00')), 'markt')
  assert.equal(startMode({ ...info, hasMarket: false }, '?view=markt', at('10:00')), 'werktafels')
})
