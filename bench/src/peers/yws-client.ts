// A y-websocket client (y-websocket 3.1.0 WebsocketProvider, yjs 13) as its own process,
// driven over JSON lines like tandem-device --control. It keeps no local persistence.
//   node yws-client.js --url ws://127.0.0.1:PORT [--author N]
import { randomBytes } from 'node:crypto'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { emit, flag, runControl, waitCount } from './control.js'
import { authorId, messageText, randomId, type PeerMessage } from '../text.js'

const url = flag('url')
const author = authorId(Number(flag('author', '0')))

/** ws with a payload bound large enough for a 1,000,000-message sync step 2 (ws defaults to 100 MiB). */
class BigWebSocket extends WebSocket {
  constructor(address: string, protocols?: string | string[]) {
    super(address, protocols, { maxPayload: 2 ** 31 - 1 })
  }
}

const ydoc = new Y.Doc()
const arr = ydoc.getArray<PeerMessage>('messages')
let provider: WebsocketProvider | null = null
let watching = false

arr.observe((event, tr) => {
  if (!watching || tr.local) return
  for (const item of event.changes.added) for (const m of item.content.getContent() as PeerMessage[]) emit({ event: 'message', text: m.text })
})

const connect = (doc: string): void => {
  provider = new WebsocketProvider(url, doc, ydoc, { WebSocketPolyfill: BigWebSocket as unknown as typeof globalThis.WebSocket, disableBc: true })
}
const send = (text: string): void => {
  arr.insert(arr.length, [{ id: randomId(), author, text, ts: Date.now() }])
}
const onChange = (cb: () => void): (() => void) => {
  const f = (): void => {
    cb()
  }
  arr.observe(f)
  return () => {
    arr.unobserve(f)
  }
}

runControl(
  {
    ping: () => 'pong',
    create: () => {
      const doc = randomBytes(8).toString('hex')
      connect(doc)
      return doc
    },
    connect: c => {
      connect(String(c.doc))
      return null
    },
    disconnect: () => {
      provider!.disconnect()
      return null
    },
    reconnect: () => {
      provider!.connect()
      return null
    },
    send: c => {
      send(String(c.text))
      return null
    },
    burst: async c => {
      const count = Number(c.count)
      const seed = Number(c.seed ?? 1)
      for (let i = 0; i < count; i++) {
        send(messageText(seed, i)) // one transaction (one update on the wire) per message
        if (i % 256 === 255) await new Promise(resolve => setImmediate(resolve))
      }
      return count
    },
    count: () => arr.length,
    'wait-messages': c => waitCount(() => arr.length, Number(c.count), onChange),
    watch: () => {
      watching = true
      return null
    }
  },
  ['wait-messages'],
  async () => {
    provider?.destroy()
  }
)
