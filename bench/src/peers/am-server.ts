// automerge-repo 2.5.6's sync server: a Repo with the nodefs storage adapter and the
// websocket server adapter (ws 8), listening only once the repo's storage id is loaded.
//   node am-server.js --data DIR [--port 0]                        → prints "port N"
//   node am-server.js --data DIR --seed-docs K --seed-messages M   → writes K docs (urls.json), exits
import { once } from 'node:events'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as A from '@automerge/automerge'
import { type ImmutableString, Repo } from '@automerge/automerge-repo'
import { WebSocketServerAdapter } from '@automerge/automerge-repo-network-websocket'
import { NodeFSStorageAdapter } from '@automerge/automerge-repo-storage-nodefs'
import { WebSocketServer } from 'ws'
import { flag } from './control.js'
import { authorId, messageText, randomId } from '../text.js'

interface Msg {
  id: string
  author: string
  text: ImmutableString
  ts: number
}
type ChatDoc = { messages: Msg[] }

const dir = flag('data')
const repo = new Repo({ storage: new NodeFSStorageAdapter(join(dir, 'repo')), sharePolicy: async () => false })
await repo.storageId()

if (process.argv.includes('--seed-docs')) {
  const docs = Number(flag('seed-docs'))
  const messages = Number(flag('seed-messages'))
  const batch = Number(flag('seed-batch', '100'))
  const urls: string[] = []
  for (let d = 0; d < docs; d++) {
    // built with the Automerge API (the changes a client's sends would make, `batch` messages
    // per change), then imported: the repo stores it exactly as one it had synced
    let doc = A.from<ChatDoc>({ messages: [] })
    for (let i = 0; i < messages; i += batch) {
      doc = A.change(doc, d2 => {
        for (let j = i; j < Math.min(messages, i + batch); j++) {
          d2.messages.push({ id: randomId(), author: authorId(d), text: new A.ImmutableString(messageText(d, j)), ts: Date.now() })
        }
      })
    }
    const handle = repo.import<ChatDoc>(A.save(doc))
    urls.push(handle.url)
    await repo.flush([handle.documentId])
    await repo.removeFromCache(handle.documentId).catch(() => {})
  }
  await repo.flush()
  await writeFile(join(dir, 'urls.json'), JSON.stringify(urls))
  await repo.shutdown()
  process.stdout.write('seeded\n')
  process.exit(0)
}

const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(flag('port', '0')), maxPayload: 2 ** 31 - 1 })
await once(wss, 'listening')
repo.networkSubsystem.addNetworkAdapter(new WebSocketServerAdapter(wss as never))
process.stdout.write(`port ${(wss.address() as { port: number }).port}\n`)

let stopping = false
const stop = async (): Promise<void> => {
  if (stopping) return
  stopping = true
  wss.close()
  await repo.flush() // the nodefs adapter overwrites in place: finish every save before exiting
  process.exit(0)
}
process.on('SIGTERM', () => {
  void stop()
})
process.on('SIGINT', () => {
  void stop()
})
