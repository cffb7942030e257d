// Two-step verification between real processes: a wrong passphrase is refused and links
// nothing, three in one session end it (ERR_WRONG_PASSPHRASE), and after five wrong ones the
// existing device makes the next wait (30 s, doubling) and refuses a session started during the
// wait (ERR_LINK_RATE_LIMITED). The limits are PASSPHRASE_* in the protocol's attempt-limiter.ts.
import { MAX_PASSPHRASE_ATTEMPTS_PER_SESSION, PASSPHRASE_BACKOFF_BASE_MS, PASSPHRASE_FREE_ATTEMPTS } from '@tandem/protocol'
import { afterAll, expect, it } from 'vitest'
import type { DeviceProcess } from '../helpers/device-process.js'
import { Rig } from '../relay/relay-helpers.js'
import { type DeviceRow, expectNothingLinked, failure, nextEvent, type ShownCode } from './linking-helpers.js'

const rig = new Rig()
afterAll(() => rig.cleanup())

/** Shows a code on `laptop`, has `phone` link it, and answers each passphrase question with the next of `answers`; the codes each side ended with. */
async function attempt(
  phone: DeviceProcess,
  laptop: DeviceProcess,
  answers: string[]
): Promise<{ phone: string; laptop: string; asked: Array<{ wrongAttempts: number; retryAfterMs: number }> }> {
  const from = laptop.events.length
  const code = await laptop.request<ShownCode>('show-link-code')
  const linking = failure(phone.request('link-device', { code: code.text, confirm: 'auto' }))
  const asked: Array<{ wrongAttempts: number; retryAfterMs: number }> = []
  let next = from
  for (const answer of answers) {
    const q = await Promise.race([nextEvent(laptop, 'passphrase-needed', next), nextEvent(laptop, 'link-failed', from)])
    if (q.event === 'link-failed') break
    next = laptop.events.indexOf(q) + 1
    asked.push({ wrongAttempts: q.wrongAttempts as number, retryAfterMs: q.retryAfterMs as number })
    if (q.retryAfterMs !== 0) {
      await laptop.request('cancel-link') // the person on the new device does not wait out the limiter
      break
    }
    await laptop.request('enter-passphrase', { passphrase: answer })
  }
  const failed = await nextEvent(laptop, 'link-failed', from, 30_000)
  return { phone: await linking, laptop: failed.code as string, asked }
}

it('wrong passphrases link nothing; the sixth waits 30 s, and a session during the wait is ERR_LINK_RATE_LIMITED', async () => {
  expect(PASSPHRASE_FREE_ATTEMPTS).toBe(5)
  expect(MAX_PASSPHRASE_ATTEMPTS_PER_SESSION).toBe(3)
  const relay = await rig.relay()
  const phone = rig.device('phone', await rig.dir('phone'), ['--relay', relay.address])
  await phone.request('create-account', { name: 'Ann', recovery: false })
  await phone.request('set-passphrase', { passphrase: 'correct horse battery' })
  const before = await phone.request<DeviceRow[]>('devices')
  const laptop = rig.device('laptop', await rig.dir('laptop'), ['--relay', relay.address])

  // session 1: three wrong answers end it
  const first = await attempt(phone, laptop, ['wrong 1', 'wrong 2', 'wrong 3'])
  expect(first.asked.map(a => a.wrongAttempts)).toEqual([0, 1, 2])
  expect(first.phone).toBe('ERR_WRONG_PASSPHRASE')
  expect(first.laptop).toBe('ERR_WRONG_PASSPHRASE')
  await expectNothingLinked(phone, laptop, before)

  // session 2: two more (five in all, free), then the existing device asks for a wait before the sixth
  const second = await attempt(phone, laptop, ['wrong 4', 'wrong 5', 'never sent'])
  expect(second.asked).toEqual([
    { wrongAttempts: 0, retryAfterMs: 0 },
    { wrongAttempts: 1, retryAfterMs: 0 },
    { wrongAttempts: 2, retryAfterMs: PASSPHRASE_BACKOFF_BASE_MS }
  ])
  // (attempt cancelled at the wait, as a person who will not wait 30 s does)
  expect(second.laptop).toBe('ERR_LINK_DECLINED')
  expect(second.phone).toBe('ERR_LINK_DECLINED')
  await expectNothingLinked(phone, laptop, before)

  // session 3, during the wait: refused before any question, even with the right passphrase ready
  const third = await attempt(phone, laptop, ['correct horse battery'])
  expect(third.asked).toEqual([])
  expect(third.phone).toBe('ERR_LINK_RATE_LIMITED')
  expect(third.laptop).toBe('ERR_LINK_RATE_LIMITED')
  await expectNothingLinked(phone, laptop, before)
})

it('the right passphrase after a wrong one links the device', async () => {
  const relay = await rig.relay()
  const phone = rig.device('phone2', await rig.dir('phone2'), ['--relay', relay.address])
  await phone.request('create-account', { name: 'Ann', recovery: false })
  await phone.request('set-passphrase', { passphrase: 'correct horse battery' })
  const laptop = rig.device('laptop2', await rig.dir('laptop2'), ['--relay', relay.address])
  const code = await laptop.request<ShownCode>('show-link-code')
  const linked = phone.request<{ name: string }>('link-device', { code: code.text, confirm: 'auto' })
  const question = await nextEvent(laptop, 'passphrase-needed', 0)
  await laptop.request('enter-passphrase', { passphrase: 'wrong' })
  const retry = await nextEvent(laptop, 'passphrase-needed', laptop.events.indexOf(question) + 1)
  expect(retry.wrongAttempts).toBe(1)
  await laptop.request('enter-passphrase', { passphrase: 'correct horse battery' })
  expect((await linked).name).toBe('laptop2')
  await nextEvent(laptop, 'linked', 0)
  expect((await phone.request<DeviceRow[]>('devices')).map(d => d.name)).toEqual(['phone2', 'laptop2'])
  // removed: the next device needs only the code
  await phone.request('set-passphrase', { passphrase: null })
})
