// @hocuspocus/server with its defaults and no extensions (so no persistence),
// on a port the OS picks. Every token is accepted: no onAuthenticate hook.
import { Server } from '@hocuspocus/server'

const server = new Server({ address: '127.0.0.1', port: 0, quiet: true })
await server.listen()
console.log(`listening on http://127.0.0.1:${server.address.port}`)
