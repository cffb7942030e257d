// A stopped device's store signs a grant or a revocation with a given build's engine, in a
// process of its own: what grants.ts storeGranter does in the bench's process, for a build
// the bench does not load (tandem-plain: plain.ts). Prints one JSON line (the grant, or null).
//
//   node store-grant.js --engine DIR --data DIR grant '{"peerId":…}'   (an OfferJson)
//   node store-grant.js --engine DIR --data DIR revoke PEER_ID
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

const { values, positionals } = parseArgs({ options: { engine: { type: 'string' }, data: { type: 'string' } }, allowPositionals: true })
const [command, arg] = positionals
if (values.engine === undefined || values.data === undefined || arg === undefined || (command !== 'grant' && command !== 'revoke')) {
  process.stderr.write('usage: store-grant --engine DIR --data DIR (grant OFFER_JSON | revoke PEER_ID)\n')
  process.exit(2)
}

interface Offer {
  peerId: string
  agreementKey: Uint8Array
  name: string
  platform: string
}
interface Grant {
  accountId: string
  chain: Uint8Array
  keyMaterial: Uint8Array
  hints?: Array<{ chatId: string; segment: number }>
}
interface Engine {
  addDevice(offer: Offer): Promise<Grant>
  revokeDevice(peerId: string): Promise<void>
  stop(): Promise<void>
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64')
await import(pathToFileURL(join(values.engine, 'dist/node/polyfill.js')).href)
const { createEngine } = (await import(pathToFileURL(join(values.engine, 'dist/node/index.js')).href)) as {
  createEngine(options: { dataDir: string; network: false; deviceName: string }): Promise<Engine>
}
const engine = await createEngine({ dataDir: values.data, network: false, deviceName: 'bench-granter' })
let out: unknown = null
try {
  if (command === 'grant') {
    const o = JSON.parse(arg) as { peerId: string; agreementKey: string; name: string; platform: string }
    const g = await engine.addDevice({ ...o, agreementKey: new Uint8Array(Buffer.from(o.agreementKey, 'base64')) })
    out = { accountId: g.accountId, chain: b64(g.chain), keyMaterial: b64(g.keyMaterial), hints: g.hints }
  } else await engine.revokeDevice(arg)
} finally {
  await engine.stop()
}
process.stdout.write(`${JSON.stringify(out)}\n`)
process.exit(0)
