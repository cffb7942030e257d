import { decodeStoreFrame, encodeStoreFrame, readSealedHeader } from '@tandem/protocol'
import { afterEach, expect, it } from 'vitest'
import { linkDevices, randomBytes, SealingRig, untilEngine, type Device } from '../../../test/e2e/helpers/sealing-rig.js'
import type { EngineEvent } from '../src/events.js'

// Issue 14: typing and presence (engine.sendEphemeral) are sealed end to end. Every frame
// between the devices and the relay is kept (the relay's side of each in-memory link), and
// the relay's whole store read after: the payload is in none of them, only its sealed form,
// which the relay passes on unchanged; the other device of the account gets the same bytes.

let rig: SealingRig | null = null
afterEach(async () => {
  await rig?.stop()
  rig = null
})

const contains = (haystack: Uint8Array, needle: Uint8Array): boolean => Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(needle) !== -1
const ephemerals = (d: Device) => d.events.filter((e): e is Extract<EngineEvent, { type: 'ephemeral' }> => e.type === 'ephemeral')

it('ephemeral data reaches another device of the account as the same bytes, the relay only ever sees it sealed, and an altered one is refused', async () => {
  rig = await SealingRig.start()
  const [a, b] = [await rig.device('phone'), await rig.device('laptop')]
  await a.engine.createAccount({ name: 'Ann', recovery: false })
  const chatId = (await a.engine.createChat({ title: 'typing' })).chatId
  rig.connect(a)
  await linkDevices(a.engine, b.engine)
  // the relay passes ephemeral data on to the laptop as it is, until `lie` says to flip a bit of it
  let lie = false
  rig.connect(b, frame => {
    const f = decodeStoreFrame(frame)
    if (!lie || f.type !== 'ephemeral-data') return frame
    const payload = f.payload.slice()
    payload[payload.length >> 1]! ^= 0x01
    return encodeStoreFrame({ ...f, payload })
  })
  // both subscribed and live on the chat's doc: a message has gone from one to the other through the relay
  await a.engine.sendMessage(chatId, 'hello')
  await untilEngine(b.engine, () => b.engine.listChats().length === 1 && b.engine.messageCount(chatId) === 1, 'the laptop reads the chat')

  const marker = `typing ${Buffer.from(randomBytes(9)).toString('base64url')}`
  const payload = Buffer.concat([Buffer.from(marker), randomBytes(48)])
  expect(await a.engine.sendEphemeral(chatId, payload)).toBe(true)
  await untilEngine(b.engine, () => ephemerals(b).length === 1, 'the laptop gets the ephemeral data')
  const got = ephemerals(b)[0]!
  expect(got.docId).toBe(`chat:${chatId}`)
  expect(got.from).toBe(a.engine.peerId)
  expect(Buffer.from(got.payload).equals(payload)).toBe(true)
  expect(ephemerals(a)).toEqual([]) // (not echoed to its sender)

  // what the relay got: one ephemeral frame, sealed (epoch 1, by the phone), which it passed on unchanged
  const sent = a.toRelay.map(f => decodeStoreFrame(f)).filter(f => f.type === 'ephemeral')
  expect(sent).toHaveLength(1)
  const sealed = sent[0]!.payload
  const header = readSealedHeader(sealed)
  expect(header.epoch).toBe(1)
  expect(header.ciphertext.length).toBe(1 + payload.length + 16) // the kind byte (the app's own data), the payload, the tag
  const passedOn = b.fromRelay.map(f => decodeStoreFrame(f)).filter(f => f.type === 'ephemeral-data')
  expect(passedOn).toHaveLength(1)
  expect(passedOn[0]!.from).toBe(a.engine.peerId)
  expect(Buffer.from(passedOn[0]!.payload).equals(sealed)).toBe(true)

  // neither the payload nor its text is in any frame the relay received or sent, nor in its store; the sealed form is (the search finds what is there)
  const frames = [...a.toRelay, ...a.fromRelay, ...b.toRelay, ...b.fromRelay]
  expect(frames.filter(f => contains(f, payload) || contains(f, Buffer.from(marker)))).toEqual([])
  expect(frames.filter(f => contains(f, sealed))).toHaveLength(2)
  const stored: Uint8Array[] = []
  for await (const [k, v] of rig.db.iterator()) stored.push(Buffer.from(k), v)
  const everything = Buffer.concat(stored)
  expect(everything.length).toBeGreaterThan(1000)
  expect(contains(everything, Buffer.from(marker))).toBe(false)
  expect(contains(everything, payload)).toBe(false)
  expect(contains(everything, sealed)).toBe(false) // never stored, not even sealed

  // a relay that alters sealed ephemeral data: reported, never shown
  lie = true
  expect(await a.engine.sendEphemeral(chatId, payload)).toBe(true)
  await untilEngine(b.engine, () => b.events.some(e => e.type === 'rejected'), 'the laptop refuses the altered ephemeral data')
  expect(b.events.find(e => e.type === 'rejected')).toMatchObject({ docId: `chat:${chatId}`, chatId, waiting: false, error: { code: 'ERR_BAD_SIGNATURE' } })
  expect(ephemerals(b)).toHaveLength(1)
})
