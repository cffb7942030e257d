// An automerge-repo 2.5.6 client (websocket client adapter, no storage) as its own process,
// driven over JSON lines like tandem-device --control. Message text is an ImmutableString.
//   node am-client.js --url ws://127.0.0.1:PORT [--author N]
import { ImmutableString, Repo, type AutomergeUrl, type DocHandle } from '@automerge/automerge-repo'
import { WebSocketClientAdapter } from '@automerge/automerge-repo-network-websocket'
import { emit, flag, runControl, waitCount } from './control.js'
import { authorId, messageText, randomId } from '../text.js'

interface Msg {
  id: string
  author: string
  text: ImmutableString
  ts: number
}
type ChatDoc = { messages: Msg[] }

const url = flag('url')
// The websocket adapter leaves the error of a connection reset during its handshake unhandled
// (ws then throws it: "socket hang up", ECONNRESET), which ended this process when a network cut
// (merge through a cut: the proxy closes and refuses connections) fell on a reconnect attempt.
// Its own retry (every 5 s) is what a real client would do next: the error is noted, not fatal.
process.on('uncaughtException', err => {
  const code = (err as { code?: string }).code
  if (code !== 'ECONNRESET' && code !== 'ECONNREFUSED' && code !== 'EPIPE') throw err
  process.stderr.write(`(a connection error the adapter left unhandled: ${code})\n`)
})
const author = authorId(Number(flag('author', '0')))
// created on the first create/connect: the adapter dials as soon as it exists
let adapter: WebSocketClientAdapter | null = null
let repo: Repo | null = null
const ensureRepo = (): Repo => {
  if (repo === null) {
    adapter = new WebSocketClientAdapter(url)
    repo = new Repo({ network: [adapter], sharePolicy: async () => true })
  }
  return repo
}
let handle: DocHandle<ChatDoc> | null = null
let watching = false
let seen = 0
const changed = new Set<() => void>()

const count = (): number => handle?.doc()?.messages?.length ?? 0
const attach = (h: DocHandle<ChatDoc>): void => {
  handle = h
  seen = count()
  h.on('change', ({ doc }) => {
    if (watching) {
      const msgs = doc.messages
      for (let i = seen; i < msgs.length; i++) emit({ event: 'message', text: msgs[i]!.text.toString() })
    }
    seen = doc.messages.length
    for (const f of [...changed]) f()
  })
  for (const f of [...changed]) f()
}
const send = (text: string): void => {
  handle!.change(doc => {
    doc.messages.push({ id: randomId(), author, text: new ImmutableString(text), ts: Date.now() })
  })
}

runControl(
  {
    ping: () => 'pong',
    create: () => {
      const h = ensureRepo().create<ChatDoc>({ messages: [] })
      attach(h)
      return h.url
    },
    connect: c => {
      // a doc created a moment ago elsewhere may not be on the server yet ("unavailable"): retry (bounded)
      const find = (attempt: number): void => {
        void ensureRepo()
          .find<ChatDoc>(String(c.doc) as AutomergeUrl)
          .then(attach, err => {
            if (attempt < 50)
              setTimeout(() => {
                find(attempt + 1)
              }, 200)
            else emit({ event: 'error', message: String(err) })
          })
      }
      find(0)
      return null
    },
    disconnect: () => {
      adapter!.disconnect()
      return null
    },
    reconnect: () => {
      adapter!.connect(repo!.peerId, adapter!.peerMetadata)
      return null
    },
    send: c => {
      send(String(c.text))
      return null
    },
    burst: async c => {
      const n = Number(c.count)
      const seed = Number(c.seed ?? 1)
      for (let i = 0; i < n; i++) {
        send(messageText(seed, i)) // one change per message
        if (i % 256 === 255) await new Promise(resolve => setImmediate(resolve))
      }
      return n
    },
    count,
    'wait-messages': c =>
      waitCount(count, Number(c.count), cb => {
        changed.add(cb)
        return () => {
          changed.delete(cb)
        }
      }),
    watch: () => {
      watching = true
      return null
    }
  },
  ['wait-messages'],
  async () => {
    await repo?.shutdown().catch(() => {})
  }
)
