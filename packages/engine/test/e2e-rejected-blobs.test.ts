import { BlobEncoding, encodeBlobEnvelope, nobleSignatures, seal, signingKeyFromSeed } from '@tandem/protocol'
import { afterEach, expect, it } from 'vitest'
import * as Y from 'yjs'
import { codecFor, copyStore, keysOf, linkDevices, randomBytes, ringFrom, SealingRig, untilEngine, type Device } from '../../../test/e2e/helpers/sealing-rig.js'
import type { EngineEvent } from '../src/events.js'
import { encodeMessageRecord } from '../src/model/message.js'
import { toHex } from '../src/util/hex.js'

// Issue 14: a relay that lies. Blobs written straight into the relay's log (as a relay that
// is not blind, or a thief of its disk, could) reach the account's devices like any entry:
// one genuine blob (the control: the path delivers, and a genuine blob is shown), then one
// with a flipped bit, one replayed from another chat, two sealed with another epoch's key,
// one signed by a stranger, one by a revoked device, one not sealed at all. Each is rejected
// — a `rejected` event with ERR_BAD_SIGNATURE or ERR_DECRYPT, not waiting — and none of their
// messages shows; the messages written after them still arrive.

let rig: SealingRig | null = null
afterEach(async () => {
  await rig?.stop()
  rig = null
})

/** Blobs a device refused for good (a blob that waits for a key it does not hold yet is another matter). */
const rejections = (d: Device) => d.events.filter((e): e is Extract<EngineEvent, { type: 'rejected' }> => e.type === 'rejected' && !e.waiting)
const texts = (d: Device, chatId: string): string[] =>
  d.engine
    .listMessages(chatId)
    .map(m => m.text)
    .sort()

/** A Yjs update adding one message to a chat doc, as a device of the account would write it. */
function messageUpdate(text: string, accountId: string, device: string): { update: Uint8Array; reach: Map<number, number> } {
  const doc = new Y.Doc()
  const id = `1.${toHex(randomBytes(12))}`
  doc.getMap<Uint8Array>('messages').set(id, encodeMessageRecord({ id, author: accountId, device, text, wall: Date.now(), counter: 0 }))
  return { update: Y.encodeStateAsUpdate(doc), reach: Y.decodeStateVector(Y.encodeStateVector(doc)) }
}

it('rejects a flipped bit, a replay into another chat, another epoch’s key, a stranger’s or a revoked device’s signature and an unsealed blob, and sync goes on', async () => {
  rig = await SealingRig.start()
  const [a, b, x] = [await rig.device('phone'), await rig.device('laptop'), await rig.device('tablet')]
  await a.engine.createAccount({ name: 'Ann', recovery: false })
  const accountId = a.engine.accountId!
  const one = (await a.engine.createChat({ title: 'one' })).chatId
  const two = (await a.engine.createChat({ title: 'two' })).chatId
  rig.connect(a)
  await linkDevices(a.engine, b.engine)
  rig.connect(b)
  await linkDevices(a.engine, x.engine)
  rig.connect(x)
  await a.engine.sendMessage(one, 'hello one')
  await a.engine.sendMessage(two, 'hello two')
  await untilEngine(b.engine, () => b.engine.listChats().length === 2 && b.engine.messageCount(one) === 1 && b.engine.messageCount(two) === 1, 'b reads both chats')

  // a second key generation: the tablet is revoked (its keys kept, as a copy of its store)
  const tablet = await keysOf(await copyStore(x.store))
  await a.engine.revokeDevice(x.engine.peerId)
  await untilEngine(x.engine, () => x.events.some(e => e.type === 'revoked'), 'the tablet is revoked')
  await a.engine.sendMessage(one, 'after the rotation')
  await untilEngine(b.engine, () => b.engine.messageCount(one) === 2, 'b reads the new generation')

  // what a liar can make: the phone's own keys (a copy of its store) and the relay's chain
  const phone = await keysOf(await copyStore(a.store))
  const ring = ringFrom(phone.agreement, await rig.chain(accountId))
  expect(ring.latest).toBe(2)
  const codec = codecFor(phone, ring)
  const [docOne, docTwo] = [`chat:${one}:1`, `chat:${two}:1`]
  const sealAs = async (text: string, o: { epoch: number; keyEpoch: number; author: { publicKey: Uint8Array; secretKey: Uint8Array }; docId?: string }): Promise<Uint8Array> => {
    const docId = o.docId ?? docOne
    const { update, reach } = messageUpdate(text, accountId, a.engine.peerId)
    const plaintext = encodeBlobEnvelope({ encoding: BlobEncoding.Raw, reach: Y.encodeStateVector(reach), payload: update })
    const key = ring.docKey(o.keyEpoch, docId)!
    return await seal('blob', { docId, epoch: o.epoch, author: o.author.publicKey, authorSeed: o.author.secretKey, key, nonce: randomBytes(24), plaintext }, nobleSignatures)
  }
  const encode = async (text: string, docId = docOne): Promise<Uint8Array> => {
    const { update, reach } = messageUpdate(text, accountId, a.engine.peerId)
    return await codec.encode(docId, update, reach)
  }

  const genuine = await encode('genuine, put in the log by the relay')
  const flipped = await encode('flipped')
  flipped[Math.floor(flipped.length / 2)]! ^= 0x08
  const stranger = signingKeyFromSeed(randomBytes(32))
  const plain = messageUpdate('not sealed', accountId, a.engine.peerId)
  const bad: Array<{ what: string; docId: string; bytes: Uint8Array; code: string; text: string }> = [
    { what: 'one flipped bit', docId: docOne, bytes: flipped, code: 'ERR_BAD_SIGNATURE', text: 'flipped' },
    { what: 'a blob of chat one replayed into chat two', docId: docTwo, bytes: genuine, code: 'ERR_BAD_SIGNATURE', text: 'genuine, put in the log by the relay' },
    {
      what: 'epoch 2 sealed with the epoch-1 key',
      docId: docOne,
      bytes: await sealAs('epoch 2 under the epoch-1 key', { epoch: 2, keyEpoch: 1, author: phone.signing }),
      code: 'ERR_DECRYPT',
      text: 'epoch 2 under the epoch-1 key'
    },
    {
      what: 'epoch 1 sealed with the epoch-2 key',
      docId: docOne,
      bytes: await sealAs('epoch 1 under the epoch-2 key', { epoch: 1, keyEpoch: 2, author: phone.signing }),
      code: 'ERR_DECRYPT',
      text: 'epoch 1 under the epoch-2 key'
    },
    {
      what: 'signed by a device never listed',
      docId: docOne,
      bytes: await sealAs('from a stranger', { epoch: 2, keyEpoch: 2, author: stranger }),
      code: 'ERR_BAD_SIGNATURE',
      text: 'from a stranger'
    },
    {
      what: 'signed by the revoked tablet, in the generation that revoked it',
      docId: docOne,
      bytes: await sealAs('from the revoked tablet', { epoch: 2, keyEpoch: 2, author: tablet.signing }),
      code: 'ERR_BAD_SIGNATURE',
      text: 'from the revoked tablet'
    },
    {
      what: 'not sealed (a plain envelope)',
      docId: docOne,
      bytes: encodeBlobEnvelope({ encoding: BlobEncoding.Raw, reach: Y.encodeStateVector(plain.reach), payload: plain.update }),
      code: 'ERR_BAD_SIGNATURE',
      text: 'not sealed'
    }
  ]

  await rig.inject(docOne, genuine, accountId)
  for (const blob of bad) await rig.inject(blob.docId, blob.bytes, accountId)
  // sync goes on: what the phone writes after them arrives
  await a.engine.sendMessage(one, 'still flowing one')
  await a.engine.sendMessage(two, 'still flowing two')

  for (const d of [b, a]) {
    await untilEngine(
      d.engine,
      () => rejections(d).length >= bad.length && d.engine.messageCount(one) === 4 && d.engine.messageCount(two) === 2,
      `${d === a ? 'a' : 'b'}: every blob read`
    )
    expect(texts(d, one)).toEqual(['after the rotation', 'genuine, put in the log by the relay', 'hello one', 'still flowing one'])
    expect(texts(d, two)).toEqual(['hello two', 'still flowing two'])
    const seen = rejections(d)
    // in log order per doc (the docs are read side by side)
    for (const docId of [docOne, docTwo]) {
      expect(seen.filter(e => e.docId === docId).map(e => [e.chatId, e.error.code, e.waiting])).toEqual(
        bad.filter(blob => blob.docId === docId).map(blob => [docId.slice(5).split(':')[0], blob.code, false])
      )
    }
    expect(seen).toHaveLength(bad.length)
    expect(seen.map(e => e.total)).toEqual([...seen.map(e => e.total)].sort((x, y) => x - y)) // a running count
    for (const blob of bad) expect(d.engine.listMessages(blob.docId.slice(5).split(':')[0]!).map(m => m.text)).not.toContain(blob.text)
  }
})
