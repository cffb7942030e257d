// Bench-only: a swarm of Tandem devices (real engines, each its own peer id, account and
// chat, connected to one relay over TCP + Noise + yamux on 127.0.0.1), started with a
// stagger so the relay is not asked for hundreds of handshakes at once.
//   node swarm.js --relay MULTIADDR --devices N --stagger-ms S
// JSON-lines commands: start, activate {count, intervalMs}, quiet, stats
import { flag, runControl } from '../peers/control.js'
import { messageText } from '../text.js'
import { startDevice, type SwarmDevice } from './engines.js'

const relay = flag('relay')
const total = Number(flag('devices'))
const stagger = Number(flag('stagger-ms', '20'))
const base = Number(flag('index-base', '0'))
const devices: SwarmDevice[] = []
const timers: NodeJS.Timeout[] = []
let sent = 0
let acked = 0
let failed = 0
let retries = 0
const errors = new Map<string, number>()

/** Starts one device, retrying (bounded) when the relay is too busy to answer in time. */
async function startWithRetry(index: number): Promise<SwarmDevice> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await startDevice(relay, index)
    } catch (err) {
      const msg = String((err as Error)?.message ?? err)
        .split('\n')[0]!
        .slice(0, 80)
      errors.set(msg, (errors.get(msg) ?? 0) + 1)
      if (attempt >= 5) throw err
      retries++
      await new Promise(resolve => setTimeout(resolve, 1000 * (attempt + 1)))
    }
  }
}

runControl(
  {
    start: async () => {
      const t0 = performance.now()
      const starting: Array<Promise<void>> = []
      for (let i = 0; i < total; i++) {
        starting.push(
          startWithRetry(base + i).then(
            d => {
              devices.push(d)
              d.engine.subscribe(e => {
                if (e.type === 'status' && e.status === 'sent') acked += e.messageIds.length
              })
            },
            () => {
              failed++
            }
          )
        )
        await new Promise(resolve => setTimeout(resolve, stagger))
      }
      await Promise.all(starting)
      // wait (bounded) until every device's relay session is up
      for (let k = 0; k < 600 && devices.some(d => d.engine.relayStatus()[0]?.connected !== true); k++) await new Promise(resolve => setTimeout(resolve, 100))
      return { started: devices.length, failed, retries, errors: Object.fromEntries(errors), ms: performance.now() - t0 }
    },
    activate: c => {
      const count = Math.min(Number(c.count), devices.length)
      const interval = Number(c.intervalMs)
      for (let i = 0; i < count; i++) {
        const d = devices[i]!
        let k = 0
        // random phase, then one message every `interval` ms
        timers.push(
          setTimeout(() => {
            timers.push(
              setInterval(() => {
                sent++
                void d.engine.sendMessage(d.chatId, messageText(base + i, k++)).catch(() => {})
              }, interval)
            )
          }, Math.random() * interval)
        )
      }
      return null
    },
    quiet: () => {
      for (const t of timers.splice(0)) {
        clearTimeout(t)
        clearInterval(t)
      }
      return { sent, acked }
    },
    stats: () => ({
      devices: devices.length,
      failed,
      connected: devices.filter(d => d.engine.relayStatus()[0]?.connected === true).length,
      sent,
      acked,
      rssMiB: process.memoryUsage().rss / 2 ** 20
    })
  },
  [],
  async () => {
    for (const t of timers.splice(0)) {
      clearTimeout(t)
      clearInterval(t)
    }
    await Promise.all(devices.map(d => d.engine.stop().catch(() => {})))
  }
)
