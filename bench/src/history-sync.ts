import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DeviceProcess } from '@tandem/device/device-process'
import { medianOf } from './stats.js'

interface Info { multiaddrs: string[] }

/**
 * Device → fresh device history sync over libp2p (TCP + Noise + yamux) on
 * 127.0.0.1, both real tandem-device processes: ms from dial to all N messages.
 */
export async function benchHistorySync (n: number, runs: number): Promise<number> {
  const dirs: string[] = []
  const dir = async (): Promise<string> => { const d = await mkdtemp(join(tmpdir(), 'tandem-bench-')); dirs.push(d); return d }
  const a = DeviceProcess.start('a', ['--data', await dir(), '--no-sync'])
  try {
    await a.request('create-account', { name: 'bench' })
    const { chatId } = await a.request<{ chatId: string }>('create-chat', { title: 'history' })
    await a.request('burst', { chatId, prefix: 'message with about a hundred characters of text in it, like a real chat line would have, ok', count: n, concurrency: 512 }, 600_000)
    const addr = (await a.request<Info>('info')).multiaddrs[0]!
    const credentials = await a.request<string>('credentials')
    return await medianOf(runs, async () => {
      const b = DeviceProcess.start('b', ['--data', await dir(), '--no-sync'])
      try {
        await b.request('join', { credentials })
        const t0 = performance.now()
        await b.request('dial', { addr })
        await b.request('wait-messages', { chatId, count: n }, 600_000)
        return performance.now() - t0
      } finally {
        await b.stop()
      }
    })
  } finally {
    await a.stop()
    await Promise.all(dirs.map(d => rm(d, { recursive: true, force: true })))
  }
}
