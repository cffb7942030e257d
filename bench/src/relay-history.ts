import { readFile } from 'node:fs/promises'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DeviceProcess } from '@tandem/device/device-process'
import { RelayProcess } from '@tandem/device/relay-process'
import { median } from './stats.js'

export interface RelayHistoryResult {
  n: number
  /** ms from a fresh device's start to holding all N messages, relay alone (median). */
  syncMs: number
  /** Blob bytes the relay sent to the fresh device (tandem_relay_backfill_bytes_total). */
  backfillBytes: number
  bytesPerMessage: number
  /** Relay resident memory with the history stored, after serving it. */
  relayRssMiB: number
}

const TEXT = 'a chat line of about a hundred characters, like the ones people actually type into a messenger'

async function metric (relay: RelayProcess, name: string): Promise<number> {
  const text = await (await fetch(`${relay.httpUrl}/metrics`)).text()
  const line = text.split('\n').find(l => l.startsWith(name + ' ') || l.startsWith(name + '{'))
  return line === undefined ? 0 : Number(line.split(' ').at(-1))
}

async function rssMiB (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024
}

/**
 * History sync from the relay alone: device A writes N messages and leaves;
 * a fresh device B (separate process, Noise over TCP on 127.0.0.1) catches up.
 */
export async function benchRelayHistory (n: number, runs: number): Promise<RelayHistoryResult> {
  const dirs: string[] = []
  const dir = async (): Promise<string> => { const d = await mkdtemp(join(tmpdir(), 'tandem-bench-')); dirs.push(d); return d }
  const relay = await RelayProcess.start(await dir())
  try {
    const a = DeviceProcess.start('a', ['--data', await dir(), '--relay', relay.address, '--no-sync'])
    await a.request('create-account', { name: 'bench' })
    const { chatId } = await a.request<{ chatId: string }>('create-chat', { title: 'history' })
    const credentials = await a.request<string>('credentials')
    await a.request('burst', { chatId, prefix: TEXT, count: n, concurrency: 256 }, 900_000)
    await a.waitForEvent(() => (a.events.at(-1) !== undefined) && a.events.filter(e => e.event === 'status').reduce((s, e) => s + (e.messageIds as string[]).length, 0) >= n, 900_000)
    await a.stop()

    const times: number[] = []
    let backfillBytes = 0
    for (let i = 0; i < runs; i++) {
      const before = await metric(relay, 'tandem_relay_backfill_bytes_total')
      const t0 = performance.now()
      const b = DeviceProcess.start('b', ['--data', await dir(), '--relay', relay.address, '--no-sync'])
      await b.request('join', { credentials })
      await b.request('wait-messages', { chatId, count: n }, 900_000)
      times.push(performance.now() - t0)
      await b.stop()
      backfillBytes = await metric(relay, 'tandem_relay_backfill_bytes_total') - before
    }
    return { n, syncMs: median(times), backfillBytes, bytesPerMessage: backfillBytes / n, relayRssMiB: await rssMiB(relay.child.pid!) }
  } finally {
    await relay.stop()
    await Promise.all(dirs.map(d => rm(d, { recursive: true, force: true })))
  }
}
