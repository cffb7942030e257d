// (15) A big group (issue 16): `accounts` accounts with two devices each (real engines, in
// `processes` swarm processes: tools/group-swarm.ts), one group chat of all of them on one
// relay process. One device sends a message at a time; each is fanned out by the relay to
// every other device (2 × accounts − 1), whose accounts then raise their delivered watermarks
// in the chat doc, and those go to every device too. Measured: the relay's CPU time per
// message, all of that included (from /proc, over the whole run, divided by the messages);
// the fan-out time (from the send call to the last device showing it: this machine's clock,
// read in every process); and when the sender shows it delivered to every member.
import { cpuSeconds, JsonProcess, script, tempDir } from '../proc.js'
import { percentile } from '../stats.js'
import { relayMetric, startServer } from '../systems.js'
import { messageText } from '../text.js'
import type { Spread } from './people.js'

export interface GroupResult {
  accounts: number
  devices: number
  processes: number
  messages: number
  /** Setup: accounts made and linked, the group made and listed on every device (s). */
  setupS: number
  /** Relay CPU time (user + system) per message, its fan-out and the delivered watermarks it brings back included (ms). */
  relayCpuMsPerMsg: number
  /** ms from the send call to the first / last other device showing the message. */
  firstArrival: Spread
  fanOut: Spread
  /** ms from the send call to the sender showing it delivered to every other member account (of those that got there within 30 s). */
  deliveredAll: Spread | null
  /** Messages the sender showed delivered to every member within 30 s. */
  deliveredCount: number
}

/** How long the sender waits to show a message delivered to every member before the next one goes (counted as not delivered). */
const DELIVERED_MS = 30_000

const spread = (xs: number[]): Spread => ({ p50: percentile(xs, 50), p99: percentile(xs, 99), max: Math.max(...xs) })

export async function benchGroup(accounts: number, processes: number, messages: number, warmup = 3): Promise<GroupResult> {
  const relay = await startServer('tandem', await tempDir('group'))
  const swarms: JsonProcess[] = []
  try {
    const t0 = performance.now()
    const per = Math.ceil(accounts / processes)
    for (let p = 0; p < processes; p++) {
      const n = Math.min(per, accounts - p * per)
      swarms.push(
        new JsonProcess(`group-${p}`, 'node', [
          '--max-old-space-size=4096',
          script('tools/group-swarm.js'),
          '--relay',
          `/ip4/127.0.0.1/tcp/${relay.port}/p2p/${relay.peerId!}`,
          '--accounts',
          String(n),
          '--index-base',
          String(p * per)
        ])
      )
    }
    const idsPer = await Promise.all(swarms.map(s => s.request<string[]>('start', {}, 600_000)))
    const all = idsPer.flat()
    const chatId = await swarms[0]!.request<string>('create-group', { title: 'everyone', members: all.slice(1) }, 600_000)
    await Promise.all(swarms.map(s => s.request('wait-chat', { chatId }, 600_000)))
    await Promise.all(swarms.map(s => s.request('watch', { chatId })))
    const setupS = (performance.now() - t0) / 1000
    // every device but the sender shows each message: the sender's swarm has one device fewer to wait for
    const expected = idsPer.map((ids, p) => 2 * ids.length - (p === 0 ? 1 : 0))
    const samples = { first: [] as number[], last: [] as number[], delivered: [] as number[] }
    let cpu0 = 0
    for (let i = 0; i < warmup + messages; i++) {
      if (i === warmup) cpu0 = await cpuSeconds(relay.proc.pid)
      const text = `#${i} ${messageText(15, i)}`.slice(0, 100)
      const arrivals = Promise.all(swarms.map((s, p) => s.request<{ first: number; last: number }>('arrivals', { text, count: expected[p] }, 90_000)))
      arrivals.catch(() => {})
      const { at, id } = await swarms[0]!.request<{ at: number; id: string }>('send', { chatId, text })
      const got = await arrivals
      const delivered = await swarms[0]!.request<{ at: number | null; status?: string; receipts?: number }>(
        'delivered',
        { chatId, messageId: id, timeoutMs: DELIVERED_MS },
        DELIVERED_MS + 30_000
      )
      if (delivered.at === null) process.stderr.write(`group: #${i} not delivered to all within ${DELIVERED_MS} ms (${delivered.status}, ${delivered.receipts} accounts)\n`)
      if (i < warmup) continue
      samples.first.push(Math.min(...got.map(g => g.first)) - at)
      samples.last.push(Math.max(...got.map(g => g.last)) - at)
      if (delivered.at !== null) samples.delivered.push(delivered.at - at)
    }
    const cpu = (await cpuSeconds(relay.proc.pid)) - cpu0
    process.stderr.write(`group: relay connections metric ${await relayMetric(relay, 'tandem_relay_connections')}\n`)
    return {
      accounts,
      devices: 2 * accounts,
      processes,
      messages,
      setupS,
      relayCpuMsPerMsg: (cpu * 1000) / messages,
      firstArrival: spread(samples.first),
      fanOut: spread(samples.last),
      deliveredAll: samples.delivered.length === 0 ? null : spread(samples.delivered),
      deliveredCount: samples.delivered.length
    }
  } finally {
    await Promise.all(swarms.map(s => s.stop()))
    await relay.proc.stop()
  }
}
