// Scenario: a hostile participant publishes a presence built to make every
// board at the table fetch a remote address (a colour of `url(http://…)`) and
// to inject markup through its name. The board shows it as plain text in the
// fallback colour, and no page makes a request anywhere but its own server;
// were a remote URL to reach a style, the Content-Security-Policy refuses it.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'
import { actor, closeWorld, newNoteWithText, openBoard, openWorld, waitFor } from './support.mjs'

let server, browser, event

before(async () => ({ server, browser, event } = await openWorld()))
after(() => closeWorld({ server, browser }))

const HOSTILE_URL = 'http://127.0.0.1:1/x'
const HOSTILE_NAME = '<img src=x onerror="window.__pwned=1">Eve'

test('a hostile presence causes no request and is not rendered as such', async () => {
  const anna = await actor(browser, 'Anna')
  const requests = []
  const answered = []
  anna.page.on('request', r => requests.push(r.url()))
  anna.page.on('response', r => answered.push(r.url()))
  // Violations of the page's CSP, recorded from the page's first script on.
  await anna.context.addInitScript(() => {
    window.__violations = []
    document.addEventListener('securitypolicyviolation', e => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`))
  })
  await openBoard(anna, server, event, 'a')
  const id = await newNoteWithText(anna, 'Meer bomen op het plein')

  // The attacker: a stock provider with the participant key, its presence
  // "editing" Anna's note so the note shows its colour as well.
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(`${server.url.replace(/^http/, 'ws')}/sync/${event}`, 'a', doc, {
    WebSocketPolyfill: WebSocket,
    params: { key: server.keys.join },
  })
  try {
    provider.awareness.setLocalState({
      user: { id: 'eve', name: HOSTILE_NAME, color: `url(${HOSTILE_URL})` },
      editing: id,
    })
    await waitFor(anna, name => window.__werktafel.people().includes(name), HOSTILE_NAME, 'the hostile presence in the list')
    await waitFor(anna, id => document.querySelector(`[data-note-id="${id}"] .note__editor`) !== null, id,
      'the hostile editor tag on the note')

    const shown = await anna.page.evaluate(id => {
      const avatar = [...document.querySelectorAll('.presence .avatar')].find(a => a.title.includes('Eve'))
      const tag = document.querySelector(`[data-note-id="${id}"] .note__editor`)
      const note = document.querySelector(`[data-note-id="${id}"]`)
      return {
        avatarBackground: avatar?.style.background,
        avatarHasElements: avatar ? avatar.children.length > 0 : null,
        tagBackground: tag?.style.background,
        tagText: tag?.textContent,
        noteEditor: note?.style.getPropertyValue('--editor'),
        images: document.querySelectorAll('.presence img, .note__editor img').length,
        pwned: window.__pwned ?? null,
      }
    }, id)
    assert.equal(shown.avatarHasElements, false, 'the name is text, not markup')
    assert.equal(shown.images, 0)
    assert.equal(shown.pwned, null)
    assert.ok(shown.tagText.includes('<img'), `the name is shown as typed: ${shown.tagText}`)
    for (const style of [shown.avatarBackground, shown.tagBackground, shown.noteEditor]) {
      assert.ok(!style.includes('url'), `a presence colour reached a style: ${style}`)
      assert.match(style, /rgb\(134, 142, 150\)|#868e96/, `the fallback colour, got ${style}`)
    }

    const foreign = u => !u.startsWith(server.url) && !u.startsWith('data:') && !u.startsWith('blob:')
    assert.deepEqual(requests.filter(foreign), [], 'the hostile presence made the page ask beyond the server')

    // Were a remote URL to reach a style despite that, the CSP refuses it:
    // Chromium reports the request, and fails it before it leaves.
    const blocked = anna.page.waitForEvent('requestfailed', { predicate: r => r.url().includes('?probe'), timeout: 15_000 })
    await anna.page.evaluate(url => {
      const probe = document.createElement('div')
      probe.className = 'csp-probe'
      probe.style.background = `url(${url}?probe)`
      probe.style.width = probe.style.height = '10px'
      document.body.append(probe)
    }, HOSTILE_URL)
    await waitFor(anna, () => window.__violations.some(v => v.startsWith('img-src')), undefined, 'the CSP refusing the probe')
    assert.match((await blocked).failure()?.errorText ?? '', /csp/i, 'blocked by the CSP')
    assert.deepEqual(answered.filter(foreign), [], 'a request beyond the server was answered')
    assert.deepEqual(await anna.page.evaluate(() => window.__violations.filter(v => !v.includes('?probe'))), [],
      'the app itself needs nothing the CSP forbids')
  } finally {
    // The provider's and awareness' timers would keep this process alive.
    provider.destroy()
    provider.awareness.destroy()
    doc.destroy()
    await anna.context.close()
  }
})
