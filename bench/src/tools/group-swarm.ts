// Bench-only: accounts of a big group chat (issue 16), each with two devices: real engines in
// this process (memory-level stores, no TCP listener: they reach each other only through the
// relay, over TCP + Noise + yamux on 127.0.0.1).
//   node group-swarm.js --relay MULTIADDR --accounts N --index-base B
// JSON-lines commands: start → account ids; create-group {title, members} → chatId (on this
// swarm's first device); wait-chat {chatId}; watch {chatId}; send {chatId, text} → {at, id} (the first
// device); arrivals {text, count, timeoutMs} → {first, last, count}: when this swarm's devices showed
// it, once `count` of them have or the time is up; delivered {chatId, messageId, timeoutMs} → {at}: when the first device showed it delivered to
// every other member ({at: null, status, receipts} if not within timeoutMs). Times are this machine's wall clock in ms with the sub-ms part
// (performance.timeOrigin + performance.now()), the same in every process.
import '@tandem/engine/polyfill'
import { createEngine, type Engine } from '@tandem/engine'
import { MemoryLevel } from 'memory-level'
import { flag, runControl } from '../peers/control.js'

const relay = flag('relay')
const accounts = Number(flag('accounts'))
const base = Number(flag('index-base', '0'))
const devices: Engine[] = []
const ids: string[] = []
/** Per message text: when each device of this swarm showed it. */
const arrived = new Map<string, number[]>()
const arrivalWaiters = new Set<() => void>()

const preciseNow = (): number => performance.timeOrigin + performance.now()

async function device(name: string): Promise<Engine> {
  const engine = await createEngine({
    store: new MemoryLevel<string, Uint8Array>({ keyEncoding: 'utf8', valueEncoding: 'view' }),
    deviceName: name,
    storeOptions: { sync: false },
    network: { listen: [], relays: [relay] }
  })
  devices.push(engine)
  await engine.start()
  return engine
}

/** Resolves once `done()` holds, checked now and after every event of `engine` (bounded). */
function until(engine: Engine, done: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (done()) {
      resolve()
      return
    }
    const timer = setTimeout(() => {
      off()
      reject(new Error(`${what}: not within ${timeoutMs} ms`))
    }, timeoutMs)
    const off = engine.subscribe(() => {
      if (!done()) return
      clearTimeout(timer)
      off()
      resolve()
    })
  })
}

runControl(
  {
    start: async () => {
      for (let i = 0; i < accounts; i++) {
        const phone = await device(`phone ${base + i}`)
        const { accountId } = await phone.createAccount({ name: `member ${base + i}`, recovery: false })
        const laptop = await device(`laptop ${base + i}`)
        await laptop.acceptGrant(await phone.addDevice(laptop.deviceOffer()))
        ids.push(accountId)
      }
      for (const d of devices) await until(d, () => d.relayStatus().every(r => r.connected), 'on the relay')
      return ids
    },
    'create-group': async c => (await devices[0]!.createGroup({ title: String(c.title), members: c.members as string[] })).chatId,
    'wait-chat': async c => {
      const chatId = String(c.chatId)
      for (const d of devices) await until(d, () => d.listChats().some(x => x.chatId === chatId), 'the group listed')
      return null
    },
    watch: c => {
      const chatId = String(c.chatId)
      for (const d of devices)
        d.subscribe(e => {
          if (e.type !== 'message' || e.chatId !== chatId || e.origin !== 'remote') return
          const at = preciseNow()
          const times = arrived.get(e.message.text) ?? []
          times.push(at)
          arrived.set(e.message.text, times)
          for (const w of [...arrivalWaiters]) w()
        })
      return null
    },
    send: async c => {
      const at = preciseNow()
      const m = await devices[0]!.sendMessage(String(c.chatId), String(c.text))
      return { at, id: m.id }
    },
    arrivals: c => {
      const text = String(c.text)
      const count = Number(c.count)
      const done = (): { first: number; last: number; count: number } => {
        const times = arrived.get(text) ?? []
        arrivalWaiters.delete(check)
        clearTimeout(timer)
        arrived.delete(text)
        return { first: Math.min(...times), last: Math.max(...times), count: times.length }
      }
      let resolve: (v: unknown) => void = () => {}
      const check = (): void => {
        if ((arrived.get(text) ?? []).length >= count) resolve(done())
      }
      // not all of them within the time: what did arrive, and how many
      const timer = setTimeout(() => {
        resolve(done())
      }, Number(c.timeoutMs))
      return new Promise(r => {
        resolve = r
        arrivalWaiters.add(check)
        check()
      })
    },
    delivered: async c => {
      const d = devices[0]!
      const chatId = String(c.chatId)
      const id = String(c.messageId)
      const status = (): string | undefined => d.listMessages(chatId, { limit: 20 }).find(m => m.id === id)?.status
      try {
        await until(d, () => status() === 'delivered' || status() === 'read', 'delivered to every member', Number(c.timeoutMs))
        return { at: preciseNow() }
      } catch {
        const m = d.listMessages(chatId, { limit: 20 }).find(x => x.id === id)
        return { at: null, status: m?.status, receipts: m?.receipts.length ?? 0 }
      }
    }
  },
  ['arrivals', 'delivered'],
  async () => {
    await Promise.all(devices.map(d => d.stop().catch(() => {})))
  }
)
