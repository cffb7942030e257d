// Linking that must fail: each a typed error on the existing device (and on the new one where
// it learns why), and nothing linked — the existing device lists what it listed before, the new
// one has no account. Real processes, a real relay on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { DeviceProcess } from '../helpers/device-process.js'
import { Rig } from '../relay/relay-helpers.js'
import { type DeviceRow, expectNothingLinked, failure, nextEvent, type ShownCode, withWrongSecret } from './linking-helpers.js'

const rig = new Rig()
let relayAddress = ''
let phone: DeviceProcess
let before: DeviceRow[]
let n = 0

beforeAll(async () => {
  relayAddress = (await rig.relay()).address
  phone = rig.device('phone', await rig.dir('phone'), ['--relay', relayAddress])
  await phone.request('create-account', { name: 'Ann', recovery: false })
  before = await phone.request<DeviceRow[]>('devices')
})
afterAll(() => rig.cleanup())

/** A device with no account, on the same relay. */
async function fresh(): Promise<DeviceProcess> {
  const label = `new-${++n}`
  return rig.device(label, await rig.dir(label), ['--relay', relayAddress])
}

describe('linking fails with a typed error and links nothing', () => {
  it('a code with a valid checksum but the wrong secret: ERR_LINK_PROOF, and the code is not claimed', async () => {
    const laptop = await fresh()
    const code = await laptop.request<ShownCode>('show-link-code')
    expect(await failure(phone.request('link-device', { code: code.text.replace(/.$/, c => (c === 'q' ? 'p' : 'q')), confirm: 'auto' }))).toBe('ERR_INVALID_LINK_CODE')
    expect(await failure(phone.request('link-device', { code: withWrongSecret(code.text), confirm: 'auto' }))).toBe('ERR_LINK_PROOF')
    await expectNothingLinked(phone, laptop, before)
    expect(laptop.events.filter(e => e.event === 'link-confirmation' || e.event === 'link-failed')).toEqual([]) // a failed proof claims nothing
  })

  it('an expired code: ERR_LINK_CODE_EXPIRED on both', async () => {
    const laptop = await fresh()
    const from = laptop.events.length
    const code = await laptop.request<ShownCode>('show-link-code', { ttlMs: 2_000 })
    // the process's clock cannot be moved: wait out the expiry, bounded by the code's own
    const wait = code.expiresAt - Date.now() + 200
    console.log(`waiting ${wait} ms for the code to expire`)
    expect(wait).toBeLessThan(2_500)
    const failed = await nextEvent(laptop, 'link-failed', from, wait + 5_000)
    expect(failed.code).toBe('ERR_LINK_CODE_EXPIRED')
    expect(await failure(phone.request('link-device', { code: code.text, confirm: 'auto' }))).toBe('ERR_LINK_CODE_EXPIRED')
    await expectNothingLinked(phone, laptop, before)
  })

  it('different digits on the two screens, declined on the existing device: ERR_LINK_DECLINED on both; the code is then spent: ERR_LINK_CODE_USED', async () => {
    const laptop = await fresh()
    const from = { laptop: laptop.events.length, phone: phone.events.length }
    const code = await laptop.request<ShownCode>('show-link-code')
    const linking = phone.request('link-device', { code: code.text, confirm: 'ask' })
    linking.catch(() => {})
    const [asked, shown] = await Promise.all([nextEvent(phone, 'link-confirm', from.phone), nextEvent(laptop, 'link-confirmation', from.laptop)])
    expect(asked.digits).toBe(shown.digits)
    // the person saw other digits (another device read the code first, say) and says no
    await phone.request('confirm-link', { accept: false })
    expect(await failure(linking)).toBe('ERR_LINK_DECLINED')
    expect((await nextEvent(laptop, 'link-failed', from.laptop)).code).toBe('ERR_LINK_DECLINED')
    await expectNothingLinked(phone, laptop, before)
    // single use: whatever became of the session that claimed it
    expect(await failure(phone.request('link-device', { code: code.text, confirm: 'auto' }))).toBe('ERR_LINK_CODE_USED')
    await expectNothingLinked(phone, laptop, before)
  })

  it('a code used by a link that succeeded cannot link again: ERR_LINK_CODE_USED', async () => {
    const laptop = await fresh()
    const code = await laptop.request<ShownCode>('show-link-code')
    await phone.request('link-device', { code: code.text, confirm: 'auto' })
    await nextEvent(laptop, 'linked', 0)
    const listed = await phone.request<DeviceRow[]>('devices')
    expect(listed).toHaveLength(before.length + 1)
    expect(await failure(phone.request('link-device', { code: code.text, confirm: 'auto' }))).toBe('ERR_LINK_CODE_USED')
    expect((await phone.request<DeviceRow[]>('devices')).map(d => d.peerId)).toEqual(listed.map(d => d.peerId))
    await phone.request('revoke', { peerId: listed.at(-1)!.peerId }) // (the other cases compare with the list as it was)
    before = await phone.request<DeviceRow[]>('devices')
  })

  it('the new device cancels while the digits are shown: ERR_LINK_DECLINED on both', async () => {
    const laptop = await fresh()
    const from = { laptop: laptop.events.length, phone: phone.events.length }
    const code = await laptop.request<ShownCode>('show-link-code')
    const linking = phone.request('link-device', { code: code.text, confirm: 'ask' })
    linking.catch(() => {})
    await Promise.all([nextEvent(phone, 'link-confirm', from.phone), nextEvent(laptop, 'link-confirmation', from.laptop)])
    await laptop.request('cancel-link')
    expect(await failure(linking)).toBe('ERR_LINK_DECLINED')
    await nextEvent(phone, 'link-confirm-closed', from.phone)
    expect((await nextEvent(laptop, 'link-failed', from.laptop)).code).toBe('ERR_LINK_DECLINED')
    await expectNothingLinked(phone, laptop, before)
  })
})
