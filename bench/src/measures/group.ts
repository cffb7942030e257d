// (15) A big group (issue 16): `accounts` accounts with two devices each (real engines, in
// `processes` swarm processes: tools/group-swarm.ts), one group chat of all of them on one
// relay process. One device sends a message at a time; each is fanned out by the relay to
// every other device (2 × accounts − 1), whose accounts then raise their delivered watermarks
// in the chat doc, and those go to every device too. Measured: the relay's CPU time per
// message, all of that included (from /proc, over the whole run, divided by the messages);
// the fan-out time (from the send call to the last device showing it: this machine's clock,
// read in every process); and when the sender shows it delivered to every member.
import { cpuSeconds, JsonProcess, script, sleep, tempDir } from '../proc.js'
import { median, percentile } from '../stats.js'
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
  fanOut: Spread | null
  /** Messages not on every other device within 60 s (left out of fanOut). */
  notEverywhere: number
  /** ms from the send call to the sender showing it delivered to every other member account (of those that got there within 60 s). */
  deliveredAll: Spread | null
  /** Messages the sender showed delivered to every member within 60 s. */
  deliveredCount: number
}

/** How long a message may take to reach every device, and the sender to show it delivered to every member (else counted as not). */
const WAIT_MS = 60_000
/** The relay counts as idle once it used less than this much CPU in a second (s). */
const IDLE_CPU_S = 0.03

/** Resolves once the relay is idle (the last message's fan-out and receipts through), or after 120 s of trying: with the CPU of that last, idle second (s). */
async function quiet(pid: number): Promise<number> {
  let used = 0
  for (let k = 0; k < 120; k++) {
    const c0 = await cpuSeconds(pid)
    await sleep(1000)
    used = (await cpuSeconds(pid)) - c0
    if (used < IDLE_CPU_S) return used
  }
  return used
}

const spread = (xs: number[]): Spread => ({ p50: percentile(xs, 50), p99: percentile(xs, 99), max: Math.max(...xs) })

export async function benchGroup(accounts: number, processes: number, messages: number, warmup = 1): Promise<GroupResult> {
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
    const samples = { first: [] as number[], last: [] as number[], delivered: [] as number[], cpu: [] as number[] }
    let missing = 0
    const pid = relay.proc.pid
    for (let i = 0; i < warmup + messages; i++) {
      await quiet(pid)
      const cpu0 = await cpuSeconds(pid)
      const text = `#${i} ${messageText(15, i)}`.slice(0, 100)
      const arrivals = Promise.all(
        swarms.map((s, p) => s.request<{ first: number; last: number; count: number }>('arrivals', { text, count: expected[p], timeoutMs: WAIT_MS }, WAIT_MS + 30_000))
      )
      arrivals.catch(() => {})
      const { at, id } = await swarms[0]!.request<{ at: number; id: string }>('send', { chatId, text })
      const got = await arrivals
      const shown = got.reduce((n, g) => n + g.count, 0)
      const delivered = await swarms[0]!.request<{ at: number | null; status?: string; receipts?: number }>(
        'delivered',
        { chatId, messageId: id, timeoutMs: WAIT_MS },
        WAIT_MS + 30_000
      )
      // (the idle second that says so is not the message's)
      const idle = await quiet(pid)
      const cpu = (await cpuSeconds(pid)) - cpu0 - idle
      process.stderr.write(
        `group: #${i} on ${shown}/${2 * accounts - 1} devices, last after ${Math.round(Math.max(...got.map(g => g.last)) - at)} ms; delivered to all: ${delivered.at === null ? `no (${delivered.status}, ${delivered.receipts} accounts)` : `${Math.round(delivered.at - at)} ms`}; relay CPU ${Math.round(cpu * 1000)} ms\n`
      )
      if (i < warmup) continue
      samples.cpu.push(cpu * 1000)
      samples.first.push(Math.min(...got.map(g => g.first)) - at)
      if (shown === 2 * accounts - 1) samples.last.push(Math.max(...got.map(g => g.last)) - at)
      else missing++
      if (delivered.at !== null) samples.delivered.push(delivered.at - at)
    }
    process.stderr.write(`group: relay connections metric ${await relayMetric(relay, 'tandem_relay_connections')}\n`)
    return {
      accounts,
      devices: 2 * accounts,
      processes,
      messages,
      setupS,
      relayCpuMsPerMsg: median(samples.cpu),
      notEverywhere: missing,
      firstArrival: spread(samples.first),
      fanOut: samples.last.length === 0 ? null : spread(samples.last),
      deliveredAll: samples.delivered.length === 0 ? null : spread(samples.delivered),
      deliveredCount: samples.delivered.length
    }
  } finally {
    await Promise.all(swarms.map(s => s.stop()))
    await relay.proc.stop()
  }
}
