import type { Engine } from '@tandem/engine'
import { afterEach, expect, it } from 'vitest'
import { untilEngine } from '../helpers/until.js'
import { Rig } from '../relay/relay-helpers.js'
import { account, netDevice, untilShows } from './people-helpers.js'

// Two member accounts start a shared chat's next epoch at once, each with its own random key:
// the relay keeps one record, and what the other wrote must end up sealed under that one.

const rig = new Rig()
const stops: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s()
  await rig.cleanup()
})

/** A device's view of a chat's newest record: its version, epoch and signature (hex). */
const recordOf = (device: Engine, chatId: string): { version: number; epoch: number; signature: string } => {
  const record = (device as unknown as { shared: { keys: { record(chatId: string): { version: number; keys: { epoch: number }; signature: Uint8Array } } } }).shared.keys.record(
    chatId
  )
  return { version: record.version, epoch: record.keys.epoch, signature: Buffer.from(record.signature).toString('hex') }
}

/** Starts the chat's next epoch on `device` (what its next write does after a member account revoked a device): signs the next record version with a new random key. */
const startEpoch = (device: Engine, chatId: string): Promise<void> =>
  (device as unknown as { shared: { epochs: { rotate(chatId: string): Promise<void> } } }).shared.epochs.rotate(chatId)

it('a device of each account starts the chat’s next epoch at once, each with its own key: the relay keeps one record, and what both then write is read on every device', async () => {
  const relay = await rig.relay()
  const [alicePhone, aliceLaptop, bobPhone, bobLaptop] = [
    await netDevice('alice-phone', relay.address, stops),
    await netDevice('alice-laptop', relay.address, stops),
    await netDevice('bob-phone', relay.address, stops),
    await netDevice('bob-laptop', relay.address, stops)
  ] as [Engine, Engine, Engine, Engine]
  await account('Alice', alicePhone, aliceLaptop)
  await account('Bob', bobPhone, bobLaptop)
  const chat = await bobPhone.acceptInvite(alicePhone.createInvite().text)
  await bobPhone.sendMessage(chat.chatId, 'epoch one')
  await untilShows(alicePhone, chat.chatId, ['epoch one'], 'the first message on Alice’s phone')
  expect(recordOf(alicePhone, chat.chatId)).toMatchObject({ version: 1, epoch: 1 })

  // both sign record version 2 (epoch 2, each its own random key) before either hears of the other's
  await Promise.all([startEpoch(alicePhone, chat.chatId), startEpoch(bobPhone, chat.chatId)])
  expect(recordOf(alicePhone, chat.chatId)).toMatchObject({ version: 2, epoch: 2 })
  expect(recordOf(bobPhone, chat.chatId)).toMatchObject({ version: 2, epoch: 2 })
  // and both write at once: one of them writes under a record the relay refuses (ERR_STALE_MEMBERSHIP)
  await Promise.all([alicePhone.sendMessage(chat.chatId, 'from Alice'), bobPhone.sendMessage(chat.chatId, 'from Bob')])

  const all = ['epoch one', 'from Alice', 'from Bob']
  for (const [d, name] of [
    [alicePhone, 'Alice’s phone'],
    [aliceLaptop, 'Alice’s laptop'],
    [bobPhone, 'Bob’s phone'],
    [bobLaptop, 'Bob’s laptop']
  ] as const)
    await untilShows(d, chat.chatId, all, `both messages on ${name}`, 60_000)
  // one line of records, the relay's, on every device
  for (const d of [aliceLaptop, bobPhone, bobLaptop])
    await untilEngine(d, () => recordOf(d, chat.chatId).signature === recordOf(alicePhone, chat.chatId).signature, 'the same newest record as Alice’s phone')
}, 120_000)
