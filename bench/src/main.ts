// `npm run bench` (quick) or `npm run bench -- --full`: prints a table and writes bench/results/latest.json.
import '@tandem/engine/polyfill'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus } from 'node:os'
import { benchHistorySync } from './history-sync.js'
import { benchRelayHistory } from './relay-history.js'
import { benchStoreWrite } from './store-write.js'

const full = process.argv.includes('--full')
const rows: Array<[string, string]> = []
const results: Record<string, unknown> = { date: new Date().toISOString(), full, node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model }

const store = await benchStoreWrite(full)
results.storeWrite = store
rows.push(['store: sendMessage awaited one at a time, fsync on', `${store.sequentialFsyncPerSec.toFixed(0)} msg/s`])
rows.push(['store: 256 sends in flight, fsync on (group commit)', `${store.concurrentFsyncPerSec.toFixed(0)} msg/s`])
rows.push(['store: 256 sends in flight, fsync off', `${store.concurrentNoFsyncPerSec.toFixed(0)} msg/s`])
rows.push(['limit: level, 10,000 awaited puts, no fsync', `${store.levelAwaitedPutsPerSec.toFixed(0)} puts/s`])

const sizes = full ? [10_000, 50_000] : [10_000]
for (const n of sizes) {
  const ms = await benchHistorySync(n, 3)
  results[`historySync${n}`] = ms
  rows.push([`LAN history sync to a fresh device, N = ${n.toLocaleString('en-US')}`, `${ms.toFixed(0)} ms`])
}

for (const n of full ? [10_000, 100_000] : [10_000]) {
  const r = await benchRelayHistory(n, 3)
  results[`relayHistory${n}`] = r
  rows.push([`relay history to a fresh device, N = ${n.toLocaleString('en-US')} (process start included)`, `${r.syncMs.toFixed(0)} ms`])
  rows.push([`  blob bytes sent, per message`, `${(r.backfillBytes / 1024 / 1024).toFixed(2)} MiB, ${r.bytesPerMessage.toFixed(0)} B`])
  rows.push([`  relay RSS with the history stored, after serving it`, `${r.relayRssMiB.toFixed(0)} MiB`])
}

const width = Math.max(...rows.map(r => r[0].length))
console.log(`Tandem bench (${full ? 'full' : 'quick'}), medians; node ${process.version}, ${cpus().length} cores`)
for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`)
await mkdir(new URL('../results/', import.meta.url), { recursive: true })
await writeFile(new URL('../results/latest.json', import.meta.url), JSON.stringify(results, null, 2))
