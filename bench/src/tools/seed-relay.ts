// Seeds a running tandem-relay with ACCOUNTS accounts of one chat of MESSAGES messages each,
// written by real engines (one device per account, messages sent one at a time, its store in
// account-<i> beside OUT), and writes [{chatId, accountDir}] to OUT once the relay has
// acknowledged every message: a fresh device joins by a grant that store signs (grants.ts).
//   node seed-relay.js --relay MULTIADDR --accounts K --messages M --parallel P --out FILE
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { flag } from '../peers/control.js'
import { startDevice, typeMessages, whenSent } from './engines.js'

const relay = flag('relay')
const accounts = Number(flag('accounts'))
const messages = Number(flag('messages'))
const parallel = Number(flag('parallel', '8'))
const out: Array<{ chatId: string; accountDir: string }> = new Array(accounts)
let next = 0
let done = 0
const worker = async (): Promise<void> => {
  while (next < accounts) {
    const i = next++
    const accountDir = join(dirname(flag('out')), `account-${i}`)
    const d = await startDevice(relay, i, accountDir)
    const sent = whenSent(d.engine, messages, 1_800_000)
    await typeMessages(d, messages, i) // the texts of the peers' seeded doc i
    await sent
    out[i] = { chatId: d.chatId, accountDir }
    await d.engine.stop()
    if (++done % 50 === 0) process.stderr.write(`seeded ${done}/${accounts}\n`)
  }
}
await Promise.all(Array.from({ length: Math.min(parallel, accounts) }, worker))
await writeFile(flag('out'), JSON.stringify(out))
process.stdout.write('seeded\n')
process.exit(0)
