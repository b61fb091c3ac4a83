// Fixtures for the browser scenarios: the real server binary on a free port
// with a fresh data dir, one Chromium, and actors that each get their own
// browser context (own storage, own IndexedDB, own WebSocket).
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createWriteStream, existsSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const artifacts = join(repoRoot, 'tests/e2e/artifacts')

/** Upper bound for the server's ready line; a failure bound, not a wait. */
const SERVER_START_MS = 30_000

/**
 * Starts `werktafel serve --addr 127.0.0.1:0 --data-dir <tmp>` and resolves
 * once it prints `listening on URL`. The server's output goes to a log file
 * whose path failing tests print.
 */
export async function startServer () {
  const bin = resolve(repoRoot, process.env.WERKTAFEL_BIN ?? 'target/debug/werktafel')
  if (!existsSync(bin)) {
    throw new Error(`server binary ${bin} not found: run \`cargo build -p werktafel-server\` or set WERKTAFEL_BIN`)
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'werktafel-e2e-'))
  const logPath = join(dataDir, 'server.log')
  const log = createWriteStream(logPath)
  const child = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'info' },
  })
  child.stderr.pipe(log)
  // The address, then one link per role, each with its key.
  const { url, keys } = await new Promise((resolvePromise, reject) => {
    let buffered = ''
    const timer = setTimeout(() => reject(new Error(`${bin} printed no "listening on" line and links within ${SERVER_START_MS} ms; log: ${logPath}`)), SERVER_START_MS)
    const key = role => buffered.match(new RegExp(`${role} link: \\S*[?&]key=([^\\s&]+)`))?.[1]
    child.stdout.on('data', chunk => {
      log.write(chunk)
      buffered += chunk
      const m = buffered.match(/listening on (http:\/\/\S+)/)
      const [join, facilitate, view] = [key('participant'), key('facilitator'), key('plenary')]
      if (m && join && facilitate && view) {
        clearTimeout(timer)
        resolvePromise({ url: m[1].replace(/\/$/, ''), keys: { join, facilitate, view } })
      }
    })
    child.on('exit', code => { clearTimeout(timer); reject(new Error(`${bin} exited with ${code} before listening; log: ${logPath}`)) })
  })
  return {
    url,
    /** The event's keys, from the links the server prints: { join, facilitate, view }. */
    keys,
    logPath,
    async stop () {
      if (child.exitCode === null) {
        const exited = new Promise(r => child.once('exit', r))
        child.kill('SIGTERM')
        await exited
      }
      log.end()
      if (!process.env.WERKTAFEL_KEEP_DATA) await rm(dataDir, { recursive: true, force: true })
    },
  }
}

/**
 * What a scenario file shares: one server on a fresh data dir, one Chromium,
 * the default event and the artifacts folder. A file sets it up once with
 * `before(async () => ({ server, browser, event, dir } = await openWorld()))`
 * and ends with `after(() => closeWorld({ server, browser }))`.
 */
export async function openWorld () {
  const server = await startServer()
  const browser = await launchBrowser()
  const event = await defaultEvent(server)
  return { server, browser, event, dir: ensureArtifacts() }
}

/** Closes what `openWorld` opened; safe if `before` failed halfway. */
export async function closeWorld ({ server, browser }) {
  await browser?.close()
  await server?.stop()
}

export async function launchBrowser () {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  })
}

/**
 * A participant with their own browser context. The name is stored the way
 * the app remembers it, so the actor lands on the board without the prompt;
 * a `null` name leaves it unset (a newcomer meets the prompt). `context`
 * adds options to the browser context.
 */
export async function actor (browser, name, { viewport = { width: 1280, height: 800 }, lang = 'nl', context: extra = {} } = {}) {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1, ...extra })
  await context.addInitScript(([n, l]) => {
    if (n && !localStorage.getItem('werktafel.name')) localStorage.setItem('werktafel.name', n)
    if (!localStorage.getItem('werktafel.lang')) localStorage.setItem('werktafel.lang', l)
  }, [name, lang])
  const page = await context.newPage()
  const console = []
  page.on('console', m => console.push(`[${name}] ${m.type()}: ${m.text()}`))
  page.on('pageerror', e => console.push(`[${name}] pageerror: ${e.message}`))
  return { name: name ?? 'a newcomer', context, page, console }
}

/** The default event's slug, from the server's redirect of `/`. */
export async function defaultEvent (server) {
  const res = await fetch(server.url + '/', { redirect: 'manual' })
  const location = res.headers.get('location') ?? ''
  const m = location.match(/\/e\/([^/?#]+)/)
  if (!m) throw new Error(`GET / answered ${res.status} with location "${location}", expected a redirect to /e/{event}`)
  return decodeURIComponent(m[1])
}

/** Opens a table board and waits until it is connected and synced. */
export async function openBoard (a, server, event, table) {
  await a.page.goto(`${server.url}/e/${event}/t/${table}?key=${server.keys.join}`)
  await waitSynced(a)
}

export async function waitSynced (a, what = 'synced with the server') {
  await waitFor(a, () => window.__werktafel?.page === 'board' && window.__werktafel.status === 'connected' && window.__werktafel.synced, undefined, what)
}

/** page.waitForFunction with a message that says which actor waited for what. */
export async function waitFor (a, fn, arg, what) {
  try {
    return await a.page.waitForFunction(fn, arg, { timeout: 15_000, polling: 50 })
  } catch (err) {
    const state = await a.page.evaluate(() => {
      const h = window.__werktafel
      return h ? { page: h.page, status: h.status, synced: h.synced, notes: h.notes() } : null
    }).catch(() => 'page gone')
    throw new Error(`${a.name} waited for ${what}, but the hook says ${JSON.stringify(state)}\n${a.console.join('\n')}\n${err.message}`)
  }
}

/** The notes an actor's page knows, from the test hook. */
export function notes (a) {
  return a.page.evaluate(() => window.__werktafel.notes())
}

/** Presses N on the board and types into the new note, key by key. */
export async function newNoteWithText (a, text) {
  await a.page.locator('body').press('Escape')
  await a.page.evaluate(() => document.activeElement?.blur())
  await a.page.keyboard.press('n')
  await waitFor(a, () => document.activeElement?.classList.contains('note__text'), undefined, 'a new note to take the caret')
  const id = await a.page.evaluate(() => document.activeElement.closest('.note').dataset.noteId)
  await a.page.keyboard.type(text)
  return id
}

/** Opens the facilitator console and waits until it has the event's tables. */
export async function openConsole (a, server, event) {
  await a.page.goto(`${server.url}/e/${event}/facilitator?key=${server.keys.facilitate}`)
  await waitFor(a, () => window.__werktafel?.page === 'facilitator' && window.__werktafel.ready, undefined, 'the facilitator console')
}

export function ensureArtifacts () {
  mkdirSync(artifacts, { recursive: true })
  return artifacts
}
