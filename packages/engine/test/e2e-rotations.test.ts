import { decodeStoreFrame, readSealedHeader, sealedEpoch } from '@tandem/protocol'
import { afterEach, expect, it } from 'vitest'
import { linkDevices, SealingRig, untilEngine, type Device } from '../../../test/e2e/helpers/sealing-rig.js'

// Issue 14: key generations over time. Three devices are revoked one after another (three new
// generations); the chat's log on the relay then holds blobs of four epochs. A device that was
// offline through all three rotations comes back and reads what was written meanwhile (in the
// new generations), and writes in the newest; a device linked after the three rotations reads
// the whole history, generation 1 included, from the relay alone.

let rig: SealingRig | null = null
afterEach(async () => {
  await rig?.stop()
  rig = null
})

const sentBy = (d: Device, ids: string[]) => () => ids.every(id => d.events.some(e => e.type === 'status' && e.status === 'sent' && e.messageIds.includes(id)))
const texts = (d: Device, chatId: string): string[] =>
  d.engine
    .listMessages(chatId)
    .map(m => m.text)
    .sort()
/** Messages shown in the chat; 0 while the device does not know the chat yet. */
const count = (d: Device, chatId: string): number => (d.engine.listChats().some(c => c.chatId === chatId) ? d.engine.messageCount(chatId) : 0)
const refusals = (d: Device) => d.events.filter(e => e.type === 'rejected' && !e.waiting)
const waits = (d: Device) => d.events.filter(e => e.type === 'rejected' && e.waiting).length

it('a device offline through three rotations catches up in the new generations, and a device linked after them reads the whole history', async () => {
  rig = await SealingRig.start()
  const [a, b] = [await rig.device('phone'), await rig.device('laptop')]
  const revoked = [await rig.device('tablet 1'), await rig.device('tablet 2'), await rig.device('tablet 3')]
  await a.engine.createAccount({ name: 'Ann', recovery: false })
  const accountId = a.engine.accountId!
  const chatId = (await a.engine.createChat({ title: 'generation one' })).chatId
  rig.connect(a)
  for (const d of [b, ...revoked]) {
    await linkDevices(a.engine, d.engine)
    rig.connect(d)
  }

  const written: string[] = []
  const write = async (text: string): Promise<void> => {
    const { id } = await a.engine.sendMessage(chatId, text)
    written.push(text)
    await untilEngine(a.engine, sentBy(a, [id]), `"${text}" sent`)
  }
  await write('epoch 1, first')
  await write('epoch 1, second')
  await untilEngine(b.engine, () => count(b, chatId) === 2, 'the laptop reads generation 1')

  // the laptop goes offline and writes there (under the only key it holds, generation 1); three
  // devices are revoked while it is away, each followed by new messages
  await b.engine.goOffline()
  await b.engine.sendMessage(chatId, 'the laptop, offline')
  written.push('the laptop, offline')
  for (const [i, d] of revoked.entries()) {
    await a.engine.revokeDevice(d.engine.peerId)
    await untilEngine(d.engine, () => d.events.some(e => e.type === 'revoked'), `tablet ${i + 1} revoked`)
    await write(`epoch ${i + 2}, first`)
    await write(`epoch ${i + 2}, second`)
  }
  await a.engine.updateChat(chatId, { title: 'generation four' })
  const chatDoc = `chat:${chatId}:1`
  await rig.committed(`account:${accountId}`, blob => readSealedHeader(blob.bytes).epoch === 4, 'the new title')
  const epochs = (await rig.blobs(chatDoc)).map(blob => readSealedHeader(blob.bytes).epoch)
  console.log(`rotations: the chat's log holds epochs ${epochs.join(' ')}`)
  expect([...new Set(epochs)].sort()).toEqual([1, 2, 3, 4])

  // the laptop comes back: the messages of generations 2–4, the new title; what it wrote
  // offline reaches the relay sealed again in generation 4 (never in one a revoked tablet holds),
  // and so does what it writes now
  await b.engine.start()
  rig.connect(b)
  await untilEngine(b.engine, () => count(b, chatId) === written.length && b.engine.listChats()[0]?.title === 'generation four', 'the laptop catches up through three rotations')
  expect(texts(b, chatId)).toEqual([...written].sort())
  expect(refusals(b)).toEqual([])
  const back = await b.engine.sendMessage(chatId, 'the laptop, back')
  written.push('the laptop, back')
  await untilEngine(b.engine, sentBy(b, [back.id]), 'the laptop’s message sent')
  const laptopEpochs = (await rig.blobs(chatDoc)).filter(blob => blob.uploader === b.engine.peerId).map(blob => readSealedHeader(blob.bytes).epoch)
  expect(laptopEpochs.length).toBeGreaterThan(0)
  expect(new Set(laptopEpochs)).toEqual(new Set([4]))
  await untilEngine(a.engine, () => a.engine.messageCount(chatId) === written.length, 'the phone reads the laptop')

  // a device linked after the three rotations reads everything, generation 1 included
  const n = await rig.device('new phone')
  await linkDevices(a.engine, n.engine)
  rig.connect(n)
  await untilEngine(
    n.engine,
    () => count(n, chatId) === written.length && n.engine.listChats()[0]?.title === 'generation four' && n.engine.accountInfo?.name === 'Ann',
    'the new device reads the whole history'
  )
  expect(texts(n, chatId)).toEqual([...written].sort())
  expect(refusals(n)).toEqual([])
  // (what the laptop's return looked like on the wire: an upload sealed offline in generation 1 is refused and sealed again)
  const appends = b.toRelay.map(f => decodeStoreFrame(f)).flatMap(f => (f.type === 'append' ? [sealedEpoch(f.chunk)] : []))
  const stale = b.fromRelay.map(f => decodeStoreFrame(f)).filter(f => f.type === 'doc-error' && f.code === 'ERR_STALE_EPOCH').length
  console.log(`rotations: the laptop's appends were sealed in epochs ${appends.join(' ')}; the relay refused ${stale} as stale`)
  console.log(`rotations: blobs that waited for a key: laptop ${waits(b)}, new device ${waits(n)}`)
})
