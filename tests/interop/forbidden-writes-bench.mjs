// What a client's forbidden write costs the server: a table of 20,000 notes,
// then 40 connections that each write `meta` once and are closed (1008). The
// server's CPU time (utime + stime from /proc) is read around the 40 writes,
// and around 40 connections that only join and leave, for comparison.
//
//   node tests/interop/forbidden-writes-bench.mjs target/release/werktafel [notes] [writes]
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as encoding from 'lib0/encoding'
import WebSocket from 'ws'
import { WebsocketProvider } from 'y-websocket'
import * as Y from 'yjs'

import { insertNote, readNotes } from './schema-js.mjs'

const [bin, notesArg = '20000', writesArg = '40'] = process.argv.slice(2)
if (!bin) {
  console.error('usage: node forbidden-writes-bench.mjs <werktafel binary> [notes] [writes]')
  process.exit(2)
}
const NOTES = Number(notesArg)
const WRITES = Number(writesArg)

const dataDir = await mkdtemp(join(tmpdir(), 'werktafel-forbidden-'))
const server = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] })
const { url, key } = await new Promise((resolve, reject) => {
  let out = ''
  server.stdout.on('data', chunk => {
    out += chunk
    const addr = out.match(/listening on http:\/\/(\S+?)\/?\s/)?.[1]
    const key = out.match(/participant link: \S*[?&]key=([^\s&]+)/)?.[1]
    if (addr && key) resolve({ url: `ws://${addr}/sync/atelierdag-2022`, key })
  })
  server.on('exit', code => reject(new Error(`server exited with ${code}`)))
})

/** The server's CPU time so far, in milliseconds. */
async function cpuMs () {
  const stat = await readFile(`/proc/${server.pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10 // utime, stime at 100 Hz
}

function provider (doc) {
  return new WebsocketProvider(url, 'a', doc, { WebSocketPolyfill: WebSocket, params: { key } })
}

// The table: 20,000 notes in one update, then a second client that sees them
// all (so they are applied and durable).
const writer = new Y.Doc()
const p = provider(writer)
await new Promise(resolve => p.once('sync', resolve))
writer.transact(() => {
  for (let i = 0; i < NOTES; i++) {
    insertNote(writer, {
      id: `n${i}`, text: `Notitie ${i} over het plein`, lane: 'goed', color: 'geel',
      x: i % 100, y: Math.floor(i / 100), author: 'Bench', authorId: 'bench', nowMs: 0,
    })
  }
})
const reader = new Y.Doc()
const r = provider(reader)
await new Promise(resolve => {
  const check = () => { if (readNotes(reader).length >= NOTES) resolve() }
  reader.on('update', check)
  check()
})
r.destroy()
p.destroy()

/** One connection that sends `frame` (if any) and waits until it is closed. */
function once (frame) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url}/a?key=${key}`)
    ws.on('open', () => (frame ? ws.send(frame) : ws.close(1000)))
    ws.on('close', code => resolve(code))
    ws.on('error', reject)
  })
}

function forbiddenWrite (i) {
  const doc = new Y.Doc()
  doc.getMap('meta').set('title', `Overgenomen ${i}`)
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, 0) // sync
  encoding.writeVarUint(e, 2) // update
  encoding.writeVarUint8Array(e, Y.encodeStateAsUpdate(doc))
  return encoding.toUint8Array(e)
}

async function measure (what, frame) {
  const before = await cpuMs()
  const started = performance.now()
  const codes = new Map()
  for (let i = 0; i < WRITES; i++) {
    const code = await once(frame?.(i))
    codes.set(code, (codes.get(code) ?? 0) + 1)
  }
  const cpu = await cpuMs() - before
  const wall = performance.now() - started
  console.log(`${what}: ${WRITES} connections, server CPU ${cpu} ms (${(cpu / WRITES).toFixed(1)} ms each), wall ${wall.toFixed(0)} ms, close codes ${JSON.stringify(Object.fromEntries(codes))}`)
}

console.log(`${bin}: a table of ${NOTES} notes`)
await measure('join and leave', null)
await measure('forbidden meta write', forbiddenWrite)
server.kill('SIGTERM')
await new Promise(resolve => server.once('exit', resolve))
await rm(dataDir, { recursive: true, force: true })
process.exit(0)
