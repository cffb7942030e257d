// y-websocket's server (@y/websocket-server 0.1.1, its own ws 6) with y-leveldb 0.2.0
// persistence bound exactly as the stock server binds it. Run as its own process:
//   node yws-server.js --data DIR [--port 0]                     → prints "port N"
//   node yws-server.js --data DIR --seed-docs K --seed-messages M   → writes K docs of M messages, exits
import { createRequire } from 'node:module'
import http from 'node:http'
import * as Y from 'yjs'
import { LeveldbPersistence } from 'y-leveldb'
import { setPersistence, setupWSConnection } from '@y/websocket-server/utils'
import { flag } from './control.js'
import { authorId, messageText, randomId, type PeerMessage } from '../text.js'

const dir = flag('data')
const ldb = new LeveldbPersistence(dir)

if (process.argv.includes('--seed-docs')) {
  const docs = Number(flag('seed-docs'))
  const messages = Number(flag('seed-messages'))
  for (let d = 0; d < docs; d++) {
    const name = `chat-${d}`
    // The doc a client's sends build, stored the way y-leveldb leaves it after its own
    // compaction (which the server runs whenever it loads a doc of > 500 updates): one merged
    // update. Messages go in 1,000 per transaction: Yjs merges a run of one client's items
    // into one either way, so the encoded state is the same as with one transaction per
    // message, without the per-message merge (ContentAny.mergeWith concatenates, O(run)).
    // Left as 10⁵ separate updates, the first load alone takes minutes (see the README).
    const ydoc = new Y.Doc()
    const arr = ydoc.getArray<PeerMessage>('messages')
    for (let i = 0; i < messages; i += 1000) {
      ydoc.transact(() => {
        const batch: PeerMessage[] = []
        for (let j = i; j < Math.min(messages, i + 1000); j++) batch.push({ id: randomId(), author: authorId(d), text: messageText(d, j), ts: Date.now() })
        arr.insert(arr.length, batch)
      })
    }
    await ldb.storeUpdate(name, Y.encodeStateAsUpdate(ydoc))
    ydoc.destroy()
  }
  await ldb.destroy()
  process.stdout.write('seeded\n')
  process.exit(0)
}

const ws6 = createRequire(createRequire(import.meta.url).resolve('@y/websocket-server/utils'))('ws') as {
  Server: new (o: object) => import('node:events').EventEmitter & { handleUpgrade: (...a: unknown[]) => void; emit: (e: string, ...a: unknown[]) => boolean }
}
setPersistence({
  provider: ldb,
  bindState: async (docName: string, ydoc: Y.Doc) => {
    const persistedYdoc = await ldb.getYDoc(docName)
    const newUpdates = Y.encodeStateAsUpdate(ydoc)
    void ldb.storeUpdate(docName, newUpdates)
    Y.applyUpdate(ydoc, Y.encodeStateAsUpdate(persistedYdoc))
    ydoc.on('update', (update: Uint8Array) => {
      void ldb.storeUpdate(docName, update)
    })
  },
  writeState: async () => {}
} as unknown as Parameters<typeof setPersistence>[0])

const wss = new ws6.Server({ noServer: true })
wss.on('connection', setupWSConnection)
const server = http.createServer((_req, res) => {
  res.writeHead(200)
  res.end('okay')
})
server.on('upgrade', (request, socket, head) => {
  wss.handleUpgrade(request, socket, head, (ws: unknown) => {
    wss.emit('connection', ws, request)
  })
})
server.listen(Number(flag('port', '0')), '127.0.0.1', () => {
  process.stdout.write(`port ${(server.address() as { port: number }).port}\n`)
})
let stopping = false
const stop = async (): Promise<void> => {
  if (stopping) return
  stopping = true
  server.close()
  await ldb.destroy() // waits for every queued write, then closes leveldb
  process.exit(0)
}
process.on('SIGTERM', () => {
  void stop()
})
process.on('SIGINT', () => {
  void stop()
})
