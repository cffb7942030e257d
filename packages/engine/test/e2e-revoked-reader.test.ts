import { type OpenContext, nobleSignatures, openSealed, readSealedHeader } from '@tandem/protocol'
import { afterEach, expect, it } from 'vitest'
import { codecFor, copyStore, keysOf, linkDevices, Readout, ringFrom, SealingRig, untilEngine, type Device, type HeldBlob } from '../../../test/e2e/helpers/sealing-rig.js'
import type { DecodedBlob } from '../src/relay/blob-codec.js'

// Issue 14: a revoked device given every blob the relay holds reads what was written before
// its revocation, and nothing written after. Its key material is taken as it was — a copy of
// its store made before the revocation erased it — and the blobs are read straight from the
// relay's HistoryStore, with the engine's own BlobCodec. The ring is built from the relay's
// whole chain (the revoking link included): the new generation's boxes are all there, sealed
// to everyone but it. The account's remaining device reads every blob (the test can fail).

let rig: SealingRig | null = null
afterEach(async () => {
  await rig?.stop()
  rig = null
})

const sentBy = (d: Device, ids: string[]) => () => ids.every(id => d.events.some(e => e.type === 'status' && e.status === 'sent' && e.messageIds.includes(id)))

it('a revoked device with every blob the relay holds reads what came before its revocation and nothing written after it', async () => {
  rig = await SealingRig.start()
  const a = await rig.device('phone')
  const b = await rig.device('laptop')
  await a.engine.createAccount({ name: 'Ann before', recovery: false })
  const accountId = a.engine.accountId!
  const chatId = (await a.engine.createChat({ title: 'plans before' })).chatId
  rig.connect(a)
  await linkDevices(a.engine, b.engine)
  rig.connect(b)

  // before: both devices write, and each reads the other's through the relay
  const before = ['before one', 'before two', 'before three']
  const ids = [] as string[]
  for (const t of before) ids.push((await a.engine.sendMessage(chatId, t)).id)
  await untilEngine(b.engine, () => b.engine.listChats().length === 1, 'b has the chat')
  const own = await b.engine.sendMessage(chatId, 'before, from the laptop')
  await untilEngine(a.engine, sentBy(a, ids), 'a: before sent')
  await untilEngine(b.engine, sentBy(b, [own.id]), 'b: its message sent')
  await untilEngine(b.engine, () => b.engine.messageCount(chatId) === 4, 'b reads a through the relay')
  await untilEngine(a.engine, () => a.engine.messageCount(chatId) === 4, 'a reads b through the relay')

  // the laptop's key material as it is now: what copying its data directory would keep
  const laptopCopy = await copyStore(b.store)

  await a.engine.revokeDevice(b.engine.peerId)
  await untilEngine(b.engine, () => b.events.some(e => e.type === 'revoked'), 'the laptop learns it is revoked and erases itself')

  // after: messages, a new title and a new profile name
  const after = ['after one', 'after two', 'after three']
  const afterIds = [] as string[]
  for (const t of after) afterIds.push((await a.engine.sendMessage(chatId, t)).id)
  await a.engine.updateChat(chatId, { title: 'plans after' })
  await a.engine.setProfileName('Ann after')
  await untilEngine(a.engine, sentBy(a, afterIds), 'a: after sent')
  // (no status for the account doc: wait for the relay to hold its new state; stop() alone does not wait for a write still being sealed)
  await rig.committed(`account:${accountId}`, blob => readSealedHeader(blob.bytes).epoch === 2, 'the new title and name')
  const phoneNow = await copyStore(a.store)
  await a.engine.stop() // (the relay holds everything now: the messages are sent, the account doc committed)

  // every blob the relay holds, of every doc
  const held = new Map<string, HeldBlob[]>()
  for (const docId of await rig.docIds()) held.set(docId, await rig.blobs(docId))
  const chatDoc = `chat:${chatId}:1`
  const accountDoc = `account:${accountId}`
  expect([...held.keys()].sort()).toEqual([accountDoc, `chat:${chatId}`, chatDoc].sort())
  const relayChain = await rig.chain(accountId)

  const laptop = await keysOf(laptopCopy)
  expect(laptop.peerId).toBe(b.engine.peerId)
  // the laptop's ring, from its own agreement key and the relay's whole chain
  const ring = ringFrom(laptop.agreement, relayChain)
  expect(ring.latest).toBe(2)
  expect(ring.missing()).toEqual([2])
  expect(ring.docKey(2, chatDoc)).toBeNull()
  const laptopCodec = codecFor(laptop, ring)

  const phone = await keysOf(phoneNow)
  const phoneCodec = codecFor(phone, ringFrom(phone.agreement, relayChain))

  const laptopReads = new Readout()
  const phoneReads = new Readout()
  const epochs = { opened: [] as number[], refused: [] as number[] }
  for (const [docId, blobs] of held) {
    for (const blob of blobs) {
      const { epoch } = readSealedHeader(blob.bytes)
      // the phone, still listed, opens every blob
      phoneReads.apply(docId, (await phoneCodec.decode(docId, blob.bytes)).update)
      let opened: DecodedBlob | null = null
      try {
        opened = await laptopCodec.decode(docId, blob.bytes)
      } catch (err) {
        expect((err as { code?: string }).code, `${docId} seq ${blob.seq} (epoch ${epoch})`).toBe('ERR_UNKNOWN_EPOCH')
      }
      if (opened !== null) {
        epochs.opened.push(epoch)
        laptopReads.apply(docId, opened.update)
        continue
      }
      epochs.refused.push(epoch)
      // not a missing label: no key the laptop holds opens it, whatever epoch it is told the blob is of
      for (let heldEpoch = 1; heldEpoch <= ring.latest; heldEpoch++) {
        const key = ring.docKey(heldEpoch, docId)
        if (key === null) continue
        const lie: OpenContext = { keyFor: () => key, standing: () => 'listed' }
        await expect(openSealed('blob', docId, blob.bytes, lie, nobleSignatures), `${docId} seq ${blob.seq} with the laptop's epoch-${heldEpoch} key`).rejects.toMatchObject({
          code: 'ERR_DECRYPT'
        })
      }
    }
  }
  console.log(
    `revoked reader: ${epochs.opened.length} blobs opened (epochs ${[...new Set(epochs.opened)]}), ${epochs.refused.length} refused (epochs ${[...new Set(epochs.refused)]})`
  )
  expect(new Set(epochs.opened)).toEqual(new Set([1]))
  expect(new Set(epochs.refused)).toEqual(new Set([2]))

  // the relay holds everything (the phone reads it all) …
  expect(phoneReads.texts(chatDoc).sort()).toEqual([...before, 'before, from the laptop', ...after].sort())
  expect(phoneReads.profileName(accountId)).toBe('Ann after')
  expect(phoneReads.titles(accountId)).toEqual(['plans after'])
  // … and the revoked laptop reads all that came before, and nothing after
  expect(laptopReads.texts(chatDoc).sort()).toEqual([...before, 'before, from the laptop'].sort())
  expect(laptopReads.profileName(accountId)).toBe('Ann before')
  expect(laptopReads.titles(accountId)).toEqual(['plans before'])
})
