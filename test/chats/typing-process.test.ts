import { afterEach, expect, it } from 'vitest'
import { Rig } from '../relay/relay-helpers.js'

// Issue 16, what must be shown: typing shows on the other side and clears when the typing
// device is killed. Real processes: a relay and two devices of an account, each its own
// process with its own store; the typing device gets SIGKILL and says nothing more.

const rig = new Rig()
afterEach(async () => {
  await rig.cleanup()
})

it('typing on one device shows on another, and clears within seconds when the typing device is killed (SIGKILL)', async () => {
  const relay = await rig.relay()
  const phone = rig.device('phone', await rig.dir('phone'), ['--relay', relay.address])
  await phone.request('create-account', { name: 'Ann', recovery: false })
  const { chatId } = await phone.request<{ chatId: string }>('create-chat', { title: 'typing' })
  const laptop = rig.device('laptop', await rig.dir('laptop'), ['--relay', relay.address])
  await laptop.joinVia(phone)
  // both reach each other's writes: a message went from the phone to the laptop
  await phone.request('send', { chatId, text: 'hello' })
  await laptop.request('wait-messages', { chatId, count: 1 }, 30_000)

  await phone.request('present', { chatId, on: true })
  await phone.request('typing', { chatId, on: true })
  const info = await phone.request<{ peerId: string; accountId: string }>('info')
  const typing = await laptop.waitForEvent(e => e.event === 'typing' && e.typing === true, 30_000)
  expect(typing).toMatchObject({ chatId, account: info.accountId, device: info.peerId })
  expect(await laptop.request('presence', { chatId })).toMatchObject([{ device: info.peerId, online: true, typing: true }])

  await phone.kill('SIGKILL')
  // no fixed wait: the laptop's own timeout (5 s without a renewal, on its clock) ends it
  await laptop.waitForEvent(e => e.event === 'typing' && e.typing === false && e.device === info.peerId, 20_000)
  await laptop.waitForEvent(e => e.event === 'presence' && e.online === false && e.device === info.peerId, 5_000)
  expect(await laptop.request('presence', { chatId })).toMatchObject([{ device: info.peerId, online: false, typing: false }])
})
