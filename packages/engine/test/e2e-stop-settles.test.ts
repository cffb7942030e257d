import { afterEach, expect, it } from 'vitest'
import { SealingRig } from '../../../test/e2e/helpers/sealing-rig.js'

let rig: SealingRig | null = null
afterEach(async () => {
  await rig?.stop()
  rig = null
})

// Found by the end-to-end tests: stop() right after a write returned before that write was even
// in the outbox (still in its burst, or being sealed: sealing is asynchronous), so the relay
// lacked it until the next start. stop() waits (bounded) for everything on its way.
it('stop() right after a write leaves the relay holding it: the write was waiting for its burst and its seal, not lost in between', async () => {
  rig = await SealingRig.start()
  const a = await rig.device('phone')
  const { accountId } = await a.engine.createAccount({ name: 'Ann', recovery: false })
  const chatId = (await a.engine.createChat({ title: 'plans' })).chatId
  rig.connect(a)
  await a.engine.sendMessage(chatId, 'first')
  await rig.committed(`chat:${chatId}:1`, () => true, 'the first message')
  const before = { chat: (await rig.blobs(`chat:${chatId}:1`)).length, account: (await rig.blobs(`account:${accountId}`)).length }

  await a.engine.setProfileName('Ann 2')
  await a.engine.sendMessage(chatId, 'last words')
  await a.engine.stop()

  expect((await rig.blobs(`chat:${chatId}:1`)).length).toBeGreaterThan(before.chat)
  expect((await rig.blobs(`account:${accountId}`)).length).toBeGreaterThan(before.account)
})
