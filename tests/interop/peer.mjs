// A stock Yjs client — yjs + y-websocket's WebsocketProvider on the `ws`
// package, exactly as a browser would use them — driven over stdin/stdout by
// the Rust interop tests (tests/rust/interop.rs).
//
//   node tests/interop/peer.mjs ws://127.0.0.1:PORT/sync/atelierdag-2022 a
//
// Output, one JSON object per line on stdout:
//   {"event":"synced","clientId":N}          once, after the server's sync step 2
//   {"event":"notes","notes":[...]}          after every change to the document
//   {"event":"awareness","states":{id: state}} after every awareness change
//   {"event":"ok","seq":N,...}               the reply to a command
//   {"event":"error","seq":N,"message":"…"}  a command that failed
// Input, one JSON command per line on stdin, each with a `seq` the reply echoes:
//   {"cmd":"insertNote","note":{id,text,lane,color,x,y,author,authorId,nowMs}}
//   {"cmd":"type","id":"…","index":0,"text":"abc"}  one transaction per character,
//        yielding to the event loop between keystrokes so remote edits interleave
//   {"cmd":"notes"} · {"cmd":"meta"} · {"cmd":"setUser","user":{…}} · {"cmd":"quit"}
// Diagnostics go to stderr. Closing stdin ends the peer like "quit".

import { createInterface } from 'node:readline'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

import { insertNote, readMeta, readNotes, typeInto } from './schema-js.mjs'

/** Upper bound for reaching the server; a broken setup fails instead of hanging. */
const SYNC_TIMEOUT_MS = 15_000

const [serverUrl, room, key] = process.argv.slice(2)
if (!serverUrl || !room) {
  console.error('usage: node peer.mjs <ws-base-url> <table>')
  process.exit(2)
}

const emit = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')

const doc = new Y.Doc()
const provider = new WebsocketProvider(serverUrl, room, doc, { WebSocketPolyfill: WebSocket, params: { key } })

provider.on('status', ({ status }) => console.error(`peer: ${status}`))
provider.on('connection-close', (event) =>
  console.error(`peer: connection closed ${event?.code ?? ''} ${event?.reason ?? ''}`))
provider.on('connection-error', (event) =>
  console.error(`peer: connection error ${event?.message ?? event}`))

const syncTimer = setTimeout(() => {
  console.error(`peer: not synced with ${serverUrl}/${room} after ${SYNC_TIMEOUT_MS} ms`)
  process.exit(1)
}, SYNC_TIMEOUT_MS)

provider.once('sync', (synced) => {
  if (!synced) return
  clearTimeout(syncTimer)
  emit({ event: 'synced', clientId: doc.clientID })
  doc.on('update', () => emit({ event: 'notes', notes: readNotes(doc) }))
  provider.awareness.on('change', () => {
    emit({ event: 'awareness', states: Object.fromEntries(provider.awareness.getStates()) })
  })
  listen()
})

function listen () {
  const lines = createInterface({ input: process.stdin })
  lines.on('line', async (line) => {
    if (!line.trim()) return
    let command
    try {
      command = JSON.parse(line)
    } catch (e) {
      emit({ event: 'error', seq: null, message: `not JSON: ${line}` })
      return
    }
    try {
      emit({ event: 'ok', seq: command.seq, ...(await run(command)) })
    } catch (e) {
      emit({ event: 'error', seq: command.seq, message: String(e?.stack ?? e) })
    }
  })
  lines.on('close', quit)
}

async function run (command) {
  switch (command.cmd) {
    case 'insertNote':
      insertNote(doc, command.note)
      return {}
    case 'type': {
      let index = command.index
      for (const ch of command.text) {
        if (!typeInto(doc, command.id, index, ch, Date.now())) throw new Error(`no note ${command.id}`)
        index += ch.length
        await yieldToEventLoop()
      }
      return {}
    }
    case 'notes':
      return { notes: readNotes(doc) }
    case 'meta':
      return { meta: readMeta(doc) }
    case 'setUser':
      provider.awareness.setLocalStateField('user', command.user)
      return {}
    case 'quit':
      setImmediate(quit)
      return {}
    default:
      throw new Error(`unknown command ${JSON.stringify(command.cmd)}`)
  }
}

function quit () {
  provider.destroy()
  process.exit(0)
}
