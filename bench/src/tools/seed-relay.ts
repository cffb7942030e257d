// Seeds a running tandem-relay with ACCOUNTS accounts of one chat of MESSAGES messages each,
// written by real engines (one device per account, messages sent one at a time), and writes
// [{credentials, chatId}] to OUT once the relay has acknowledged every message.
//   node seed-relay.js --relay MULTIADDR --accounts K --messages M --parallel P --out FILE
import { writeFile } from 'node:fs/promises'
import { flag } from '../peers/control.js'
import { startDevice, typeMessages, whenSent } from './engines.js'

const relay = flag('relay')
const accounts = Number(flag('accounts'))
const messages = Number(flag('messages'))
const parallel = Number(flag('parallel', '8'))
const out: Array<{ credentials: string; chatId: string }> = new Array(accounts)
let next = 0
let done = 0
const worker = async (): Promise<void> => {
  while (next < accounts) {
    const i = next++
    const d = await startDevice(relay, i)
    const sent = whenSent(d.engine, messages, 1_800_000)
    await typeMessages(d, messages, i) // the texts of the peers' seeded doc i
    await sent
    out[i] = { credentials: d.credentials, chatId: d.chatId }
    await d.engine.stop()
    if (++done % 50 === 0) process.stderr.write(`seeded ${done}/${accounts}\n`)
  }
}
await Promise.all(Array.from({ length: Math.min(parallel, accounts) }, worker))
await writeFile(flag('out'), JSON.stringify(out))
process.stdout.write('seeded\n')
process.exit(0)
