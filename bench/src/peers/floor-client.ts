// A floor client: each message is sealed as a Tandem device seals a blob (XChaCha20-Poly1305
// under the doc's key, signed with Ed25519, Node's crypto as the engine uses it) and sent as
// one frame; each message received is verified and opened before it is reported. No Yjs, no
// store, no acks: the work every message must do on this stack, end-to-end encrypted.
//   node floor-client.js --relay /ip4/127.0.0.1/tcp/PORT/p2p/ID
import { createHash, randomBytes } from 'node:crypto'
import { multiaddr } from '@multiformats/multiaddr'
import { ed25519 } from '@noble/curves/ed25519.js'
import { nodeAead, nodeSignatures } from '@tandem/engine'
import { openSealed, seal } from '@tandem/protocol'
import { StreamLink } from '@tandem/transport'
import { emit, flag, runControl, waitCount } from './control.js'
import { FLOOR_PROTOCOL, floorNode } from './floor-stack.js'
import { messageText } from '../text.js'

const relay = multiaddr(flag('relay'))
const node = await floorNode([])
await node.start()
const seed = new Uint8Array(randomBytes(32))
const author = ed25519.getPublicKey(seed)
const utf8 = new TextEncoder()
const text = new TextDecoder()
let link: StreamLink | null = null
let doc = ''
let key = new Uint8Array(32)
let received = 0
let watching = false
const changed = new Set<() => void>()

const receive = async (frame: Uint8Array): Promise<void> => {
  const opened = await openSealed('blob', doc, frame, { keyFor: () => key, standing: () => 'listed' }, nodeSignatures, nodeAead)
  received++
  if (watching) emit({ event: 'message', text: text.decode(opened.plaintext) })
  for (const cb of changed) cb()
}

const connect = async (name: string): Promise<void> => {
  doc = name
  key = new Uint8Array(createHash('sha256').update(`floor:${name}`).digest())
  const stream = await node.dialProtocol(relay, FLOOR_PROTOCOL)
  link = new StreamLink(stream, relay.getComponents().at(-1)?.value ?? '', 'outbound')
  link.start({
    onFrame: frame => {
      void receive(frame).catch(err => {
        process.stderr.write(`floor: a message did not open: ${String(err)}\n`)
      })
    },
    onError: () => {},
    onClose: () => {}
  })
  await link.send(utf8.encode(name))
}

const send = async (message: string): Promise<void> => {
  const sealed = await seal(
    'blob',
    { docId: doc, epoch: 1, author, authorSeed: seed, key, nonce: new Uint8Array(randomBytes(24)), plaintext: utf8.encode(message) },
    nodeSignatures,
    nodeAead
  )
  await link!.send(sealed)
}

runControl(
  {
    ping: () => 'pong',
    create: async () => {
      const name = randomBytes(8).toString('hex')
      await connect(name)
      return name
    },
    connect: async c => {
      await connect(String(c.doc))
      return null
    },
    send: async c => {
      await send(String(c.text))
      return null
    },
    burst: async c => {
      const count = Number(c.count)
      for (let i = 0; i < count; i++) await send(messageText(Number(c.seed ?? 1), i))
      return count
    },
    'wait-messages': c =>
      waitCount(
        () => received,
        Number(c.count),
        cb => {
          changed.add(cb)
          return () => changed.delete(cb)
        }
      ),
    watch: () => {
      watching = true
      return null
    }
  },
  ['wait-messages'],
  async () => {
    await node.stop()
  }
)
