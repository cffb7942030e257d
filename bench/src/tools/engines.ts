// Bench-only: Tandem engines in one process (real @tandem/engine over real libp2p to a relay
// on 127.0.0.1), for what the control protocol cannot do cheaply: seeding a relay with
// 1,000 accounts, or holding 1,000 connected devices. Each engine is one device with its
// own peer id, account, chat and memory-level store (or a data dir, to list devices of its
// account later); it listens on no TCP port (a device behind NAT) and reaches the relay only.
import '@tandem/engine/polyfill'
import { createEngine, type Engine } from '@tandem/engine'
import { MemoryLevel } from 'memory-level'
import { messageText } from '../text.js'

export interface SwarmDevice {
  engine: Engine
  chatId: string
}

/** A device of a new account with one chat; its store in `dataDir` when given (grants.ts storeGranter opens it later), else in memory. */
export async function startDevice(relay: string, index: number, dataDir?: string): Promise<SwarmDevice> {
  const engine = await createEngine({
    ...(dataDir !== undefined ? { dataDir } : { store: new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }) }),
    deviceName: `swarm-${index}`,
    storeOptions: { sync: false },
    network: { listen: [], relays: [relay] }
  })
  await engine.start()
  await engine.createAccount({ name: `user ${index}`, recovery: false })
  const chat = await engine.createChat({ title: `chat ${index}` })
  return { engine, chatId: chat.chatId }
}

/** Resolves once the relay has acknowledged `count` messages of this device. */
export function whenSent(engine: Engine, count: number, timeoutMs: number): Promise<void> {
  let sent = 0
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`only ${sent}/${count} sent after ${timeoutMs} ms`))
    }, timeoutMs)
    const off = engine.subscribe(e => {
      if (e.type === 'status' && e.status === 'sent') {
        sent += e.messageIds.length
        if (sent >= count) {
          off()
          clearTimeout(timer)
          resolve()
        }
      }
    })
  })
}

/** Sends `count` messages one at a time (each awaited, as a person types), seeded text. */
export async function typeMessages(d: SwarmDevice, count: number, seed: number): Promise<void> {
  for (let i = 0; i < count; i++) await d.engine.sendMessage(d.chatId, messageText(seed, i))
}
