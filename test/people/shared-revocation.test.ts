import { join } from 'node:path'
import { brotliDecompressSync, inflateRawSync } from 'node:zlib'
import type { Engine, EngineEvent } from '@tandem/engine'
import { BlobEncoding, chatDocId, decodeBlobEnvelope, docKey, nobleAead, nobleSignatures, openSealed, sealedEpoch, segmentDocId } from '@tandem/protocol'
import { HistoryStore } from '@tandem/relay'
import { Level } from 'level'
import { afterEach, expect, it } from 'vitest'
import { untilEngine } from '../helpers/until.js'
import { Rig } from '../relay/relay-helpers.js'
import { account, netDevice, untilShows } from './people-helpers.js'

// Issue 14's rule in a chat between accounts: a revoked device given every blob the relay holds
// cannot decrypt anything written after the revocation, and can still read what came before.
// Alice revokes her laptop; Bob's device, which never read Alice's chain since, writes next. The
// relay refuses what it seals in the chat's old epoch (ERR_STALE_EPOCH: a member account started
// a new key generation), and Bob's device starts the next epoch and seals it again.

const rig = new Rig()
const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s()
  await rig.cleanup()
})

/** The epoch keys a device holds for a chat (K_1 … K_e): what it could open the chat's bytes with. */
const heldChatKeys = (device: Engine, chatId: string): Uint8Array[] =>
  (device as unknown as { shared: { keys: { keys(chatId: string): Uint8Array[] | null } } }).shared.keys.keys(chatId) ?? []

/** Every log entry a stopped relay's data directory holds for `docId`, in order. */
async function relayBlobs(relayDir: string, docId: string): Promise<Uint8Array[]> {
  const db = new Level<string, Uint8Array>(join(relayDir, 'history'), { keyEncoding: 'utf8', valueEncoding: 'view' })
  const history = await HistoryStore.open(db, { maxBlobBytes: 1 << 26, accountQuotaBytes: 1 << 30, sync: false })
  try {
    const out: Uint8Array[] = []
    for (const e of await history.entriesAfter(docId, 0, 1000)) {
      const parts: Uint8Array[] = []
      for (let n = 0; n < e.parts; n++) parts.push((await history.readPart(e.upload, n))!)
      out.push(Buffer.concat(parts))
    }
    return out
  } finally {
    await history.close()
  }
}

/** The Yjs update inside a blob, opened with `keys` (K_1 … K_e of the chat); null when they do not open it. */
async function openWith(keys: Uint8Array[], docId: string, bytes: Uint8Array): Promise<Buffer | null> {
  const keyFor = (epoch: number) => (keys[epoch - 1] === undefined ? null : docKey(keys[epoch - 1]!, docId))
  let plaintext: Uint8Array
  try {
    plaintext = (await openSealed('blob', docId, bytes, { keyFor, standing: () => 'listed' }, nobleSignatures, nobleAead)).plaintext
  } catch {
    return null
  }
  const { encoding, payload } = decodeBlobEnvelope(plaintext)
  if (encoding === BlobEncoding.Brotli) return brotliDecompressSync(payload)
  return encoding === BlobEncoding.Raw ? Buffer.from(payload) : inflateRawSync(payload)
}

const sent = (device: Engine, chatId: string, id: string) => () => ['sent', 'delivered', 'read'].includes(device.listMessages(chatId).find(m => m.id === id)?.status ?? '')
const epochOf = (device: Engine, chatId: string): number =>
  (device as unknown as { shared: { keys: { record(chatId: string): { keys: { epoch: number } } } } }).shared.keys.record(chatId).keys.epoch

it('after Alice revokes her laptop, what Bob’s device writes in their chat is sealed in a new epoch: the laptop, given every blob the relay holds, opens what came before and nothing after', async () => {
  const relayDir = await rig.dir('relay')
  const relay = await rig.relay(relayDir)
  const [alicePhone, aliceLaptop, bobPhone] = [
    await netDevice('alice-phone', relay.address, stops),
    await netDevice('alice-laptop', relay.address, stops),
    await netDevice('bob-phone', relay.address, stops)
  ] as [Engine, Engine, Engine]
  await account('Alice', alicePhone, aliceLaptop)
  await account('Bob', bobPhone)
  const laptopEvents: EngineEvent[] = []
  aliceLaptop.subscribe(e => laptopEvents.push(e))
  const { chatId } = await bobPhone.acceptInvite(alicePhone.createInvite().text)

  const before = ['before, from the laptop', 'before, from Bob']
  await untilEngine(aliceLaptop, () => aliceLaptop.listChats().some(c => c.chatId === chatId) && heldChatKeys(aliceLaptop, chatId).length === 1, 'the chat on the laptop')
  const fromLaptop = await aliceLaptop.sendMessage(chatId, before[0]!)
  const fromBob = await bobPhone.sendMessage(chatId, before[1]!)
  for (const [d, name] of [
    [alicePhone, 'Alice’s phone'],
    [aliceLaptop, 'Alice’s laptop'],
    [bobPhone, 'Bob’s phone']
  ] as const)
    await untilShows(d, chatId, before, `the messages before the revocation on ${name}`)
  await untilEngine(aliceLaptop, sent(aliceLaptop, chatId, fromLaptop.id), 'the laptop’s message sent')
  await untilEngine(bobPhone, sent(bobPhone, chatId, fromBob.id), 'Bob’s first message sent')
  expect(epochOf(bobPhone, chatId)).toBe(1)
  const laptopKeys = heldChatKeys(aliceLaptop, chatId)
  expect(laptopKeys).toHaveLength(1)

  // Alice revokes the laptop from her phone; Bob's device hears nothing of it, and writes next
  await alicePhone.revokeDevice(aliceLaptop.peerId)
  await untilEngine(aliceLaptop, () => laptopEvents.some(e => e.type === 'revoked'), 'the laptop revoked')
  const after = ['after, from Bob', 'after, from Alice']
  const late = await bobPhone.sendMessage(chatId, after[0]!)
  await untilEngine(bobPhone, sent(bobPhone, chatId, late.id), 'Bob’s message after the revocation sent', 30_000)
  await untilShows(alicePhone, chatId, [after[0]!], 'Bob’s message after the revocation on Alice’s phone')
  const bobEpoch = epochOf(bobPhone, chatId)
  await alicePhone.sendMessage(chatId, after[1]!)
  await untilShows(bobPhone, chatId, [...before, ...after], 'every message on Bob’s phone')
  const allKeys = heldChatKeys(alicePhone, chatId)
  expect(allKeys).toHaveLength(2)
  expect(bobPhone.listMessages(chatId).find(m => m.id === late.id)?.status).not.toBe('failed')

  for (const d of [alicePhone, bobPhone]) await d.stop()
  await relay.stop()
  // every blob the relay holds of the chat: the chat doc and its segment
  let opened = 0
  let refused = 0
  for (const docId of [chatDocId(chatId), segmentDocId(chatId, 1)]) {
    const blobs = await relayBlobs(relayDir, docId)
    let revokedSince = false
    for (const bytes of blobs) {
      const update = await openWith(allKeys, docId, bytes)
      expect(update, `a blob of ${docId} Alice's phone cannot open`).not.toBeNull()
      const has = (texts: string[]) => texts.some(t => update!.includes(Buffer.from(t)))
      // in log order: once a blob carries a message written after the revocation, everything after it was written after it too
      revokedSince ||= has(after)
      const forLaptop = await openWith(laptopKeys, docId, bytes)
      if (revokedSince) {
        expect(forLaptop, `a blob of ${docId} written after the revocation (epoch ${sealedEpoch(bytes)}) opens with the revoked laptop's keys`).toBeNull()
        refused++
      } else if (has(before)) {
        expect(forLaptop, `a blob of ${docId} written before the revocation does not open with the laptop's keys`).not.toBeNull()
        opened++
      }
    }
  }
  console.log(`the revoked laptop opens ${opened} blobs with messages from before its revocation, and none of the ${refused} written after it`)
  expect(opened).toBeGreaterThanOrEqual(2)
  expect(refused).toBeGreaterThanOrEqual(2)
  // Bob's device started the chat's next epoch (or took the one Alice's phone started)
  expect(bobEpoch).toBe(2)
}, 120_000)
