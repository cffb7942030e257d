import {
  formatLinkCodeText,
  LinkCodeExpiredError,
  LinkCodeUsedError,
  LinkDeclinedError,
  LinkProofError,
  LinkRateLimitedError,
  parseLinkCodeText,
  type TandemError,
  WrongPassphraseError
} from '@tandem/protocol'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { EngineStateError } from '../../src/errors.js'
import {
  LINK_SESSION_TIMEOUT_MS,
  type LinkConfirmation,
  LinkInterruptedError,
  type LinkInvite,
  LinkService,
  LinkUnreachableError,
  type PassphraseRequest
} from '../../src/linking/index.js'
import { ManualClock, TestDevice } from './link-fixtures.js'

let clock: ManualClock
/** The existing device (it founded the account) and the new one. */
let phone: TestDevice
let laptop: TestDevice
let phoneLinks: LinkService
let laptopLinks: LinkService

beforeEach(async () => {
  clock = new ManualClock()
  phone = await TestDevice.create('phone', clock)
  laptop = await TestDevice.create('laptop', clock)
  phone.createAccount()
  phoneLinks = new LinkService(phone)
  laptopLinks = new LinkService(laptop)
  await phoneLinks.start()
  await laptopLinks.start()
})

afterEach(async () => {
  await phoneLinks.stop()
  await laptopLinks.stop()
  await phone.node.stop()
  await laptop.node.stop()
})

const yes = async (): Promise<boolean> => true

/** The error a promise rejects with (it must reject). */
async function failure(p: Promise<unknown>): Promise<TandemError> {
  try {
    await p
  } catch (e) {
    return e as TandemError
  }
  throw new Error('expected a rejection')
}

/** Resolves with the invite's first `event`. */
function next<E extends 'confirmation' | 'passphrase-needed'>(invite: LinkInvite, event: E): Promise<E extends 'confirmation' ? string : PassphraseRequest> {
  return new Promise(resolve => {
    const off = invite.on(event, ((value: never) => {
      off()
      resolve(value)
    }) as never)
  })
}

/** Neither device linked anything: no link signed, no chain accepted. */
function nothingLinked(): void {
  expect(phone.approved).toEqual([])
  expect(laptop.accepted).toEqual([])
  expect(laptop.hasAccount()).toBe(false)
  expect(phone.listedPeers()).toEqual([phone.peerId])
}

describe('linking a device over /tandem/link/1.0.0', () => {
  it('a successful link hands the new device the account’s chain, whose head lists it as it described itself, signed by the existing device; both screens show the same six digits', async () => {
    const invite = laptopLinks.showCode()
    const shown = next(invite, 'confirmation')
    let asked: LinkConfirmation | null = null
    const result = await phoneLinks.linkDevice(invite.text, {
      confirm: async info => {
        asked = info
        return true
      }
    })
    await invite.done
    expect(result).toEqual({ peerId: laptop.peerId, name: 'laptop' })
    expect(asked!).toMatchObject({ name: 'laptop', platform: 'node', peerId: laptop.peerId })
    expect(asked!.confirmation).toMatch(/^\d{6}$/)
    expect(await shown).toBe(asked!.confirmation)
    expect(laptop.accepted.map(a => a.from)).toEqual([phone.peerId])
    expect(laptop.state!.accountId).toBe(phone.state!.accountId)
    expect(laptop.state!.headHash).toEqual(phone.state!.headHash)
    expect(laptop.listedPeers().sort()).toEqual([phone.peerId, laptop.peerId].sort())
    const listed = laptop.state!.head.devices.find(d => d.name === 'laptop')!
    expect(listed.agreementKey).toEqual(laptop.describeSelf().agreementKey)
    expect(invite.text).toMatch(/^tandem1-/)
    expect(() => invite.qr('terminal')).toThrow(EngineStateError) // used: the code is gone from the screen
  })

  it('a wrong secret is ERR_LINK_PROOF and links nothing; the code stays open and the right one still links', async () => {
    const invite = laptopLinks.showCode()
    expect(invite.qr('svg')).toMatch(/^<svg/)
    const forged = formatLinkCodeText({ ...parseLinkCodeText(invite.text), secret: new Uint8Array(16).fill(9) })
    const error = await failure(phoneLinks.linkDevice(forged, { confirm: yes }))
    expect(error).toBeInstanceOf(LinkProofError)
    nothingLinked()
    await phoneLinks.linkDevice(invite.text, { confirm: yes })
    await invite.done
    expect(laptop.listedPeers()).toContain(laptop.peerId)
  })

  it('an expired code is ERR_LINK_CODE_EXPIRED on both devices and links nothing; a reader refuses one well past its expiry before dialing', async () => {
    const invite = laptopLinks.showCode({ ttlMs: 5_000 })
    clock.advance(6_000)
    expect(await failure(invite.done)).toBeInstanceOf(LinkCodeExpiredError)
    // within the reader's clock skew allowance: the new device is the judge, and says no
    expect(await failure(phoneLinks.linkDevice(invite.text, { confirm: yes }))).toBeInstanceOf(LinkCodeExpiredError)
    clock.advance(60_000)
    const late = await failure(phoneLinks.linkDevice(invite.text, { confirm: yes }))
    expect(late).toBeInstanceOf(LinkCodeExpiredError)
    expect(late.message).toMatch(/expired \d+ s ago/)
    nothingLinked()
  })

  it('a code used once is ERR_LINK_CODE_USED for the next dialer, and links nothing more', async () => {
    const invite = laptopLinks.showCode()
    await phoneLinks.linkDevice(invite.text, { confirm: yes })
    await invite.done
    const again = await failure(phoneLinks.linkDevice(invite.text, { confirm: yes }))
    expect(again).toBeInstanceOf(LinkCodeUsedError)
    expect(phone.approved).toHaveLength(1)
    expect(laptop.accepted).toHaveLength(1)
  })

  it('digits that do not match, declined on the existing device or cancelled on the new one, are ERR_LINK_DECLINED on both and link nothing', async () => {
    const declined = laptopLinks.showCode()
    const dialer = await failure(phoneLinks.linkDevice(declined.text, { confirm: async () => false }))
    expect(dialer).toBeInstanceOf(LinkDeclinedError)
    expect(await failure(declined.done)).toBeInstanceOf(LinkDeclinedError)

    const cancelled = laptopLinks.showCode()
    void next(cancelled, 'confirmation').then(() => cancelled.cancel())
    let prompt: AbortSignal | null = null
    const never = (info: LinkConfirmation): Promise<boolean> => {
      prompt = info.signal
      return new Promise(() => {})
    }
    expect(await failure(phoneLinks.linkDevice(cancelled.text, { confirm: never }))).toBeInstanceOf(LinkDeclinedError)
    expect(await failure(cancelled.done)).toBeInstanceOf(LinkDeclinedError)
    expect(prompt!.aborted).toBe(true) // the existing device's prompt is told to close
    nothingLinked()
  })

  it('with a passphrase: a wrong one is counted and asked again, the right one links and clears the count', async () => {
    await phone.setPassphrase('open sesame')
    const invite = laptopLinks.showCode()
    const requests: PassphraseRequest[] = []
    invite.on('passphrase-needed', request => {
      requests.push(request)
      void invite.enterPassphrase(requests.length === 1 ? 'open sesam' : 'open sesame')
    })
    await phoneLinks.linkDevice(invite.text, { confirm: yes })
    await invite.done
    expect(requests.map(r => [r.wrongAttempts, r.retryAfterMs])).toEqual([
      [0, 0],
      [1, 0]
    ])
    expect(phone.limiterState).toEqual({ failures: 0, lastFailureAt: 0 })
    expect(laptop.listedPeers()).toContain(laptop.peerId)
  })

  it('a wrong passphrase, three times in a session, is ERR_WRONG_PASSPHRASE on both devices and links nothing; the limiter keeps all three', async () => {
    await phone.setPassphrase('open sesame')
    const invite = laptopLinks.showCode()
    invite.on('passphrase-needed', () => {
      void invite.enterPassphrase('sesame open')
    })
    expect(await failure(phoneLinks.linkDevice(invite.text, { confirm: yes }))).toBeInstanceOf(WrongPassphraseError)
    expect(await failure(invite.done)).toBeInstanceOf(WrongPassphraseError)
    expect(phone.limiterState).toMatchObject({ failures: 3, lastFailureAt: clock.now() })
    nothingLinked()
  })

  it('a device in its passphrase backoff (saved across restarts) ends the session with ERR_LINK_RATE_LIMITED on both and links nothing', async () => {
    await phone.setPassphrase('open sesame')
    phone.limiterState = { failures: 5, lastFailureAt: clock.now() - 10_000 }
    const invite = laptopLinks.showCode()
    let asked = false
    invite.on('passphrase-needed', () => {
      asked = true
    })
    const error = await failure(phoneLinks.linkDevice(invite.text, { confirm: yes }))
    expect(error).toBeInstanceOf(LinkRateLimitedError)
    expect((error as LinkRateLimitedError).retryAfterMs).toBe(20_000)
    expect(await failure(invite.done)).toBeInstanceOf(LinkRateLimitedError)
    expect(asked).toBe(false)
    nothingLinked()
  })

  it('a session nobody answers is cut at the deadline on the runtime clock: ERR_LINK_CODE_EXPIRED on both, nothing linked', async () => {
    const invite = laptopLinks.showCode()
    const shown = next(invite, 'confirmation')
    const linking = failure(phoneLinks.linkDevice(invite.text, { confirm: () => new Promise(() => {}) }))
    await shown
    clock.advance(LINK_SESSION_TIMEOUT_MS)
    expect(await linking).toBeInstanceOf(LinkCodeExpiredError)
    expect(await failure(invite.done)).toBeInstanceOf(LinkCodeExpiredError)
    nothingLinked()
  })

  it('a new device that cannot be reached is ERR_LINK_UNREACHABLE', async () => {
    const invite = laptopLinks.showCode()
    await laptop.node.stop()
    expect(await failure(phoneLinks.linkDevice(invite.text, { confirm: yes }))).toBeInstanceOf(LinkUnreachableError)
    nothingLinked()
  })

  it('a device that stops linking mid-session ends it: ERR_LINK_INTERRUPTED on both, nothing linked', async () => {
    const invite = laptopLinks.showCode()
    const shown = next(invite, 'confirmation')
    const linking = failure(phoneLinks.linkDevice(invite.text, { confirm: () => new Promise(() => {}) }))
    await shown
    await laptopLinks.stop()
    expect((await linking).code).toBe('ERR_LINK_INTERRUPTED')
    expect(await failure(invite.done)).toBeInstanceOf(LinkInterruptedError)
    nothingLinked()
  })

  it('a device of an account shows no code, a device without one links none, and a typo is named with its place', async () => {
    expect(() => phoneLinks.showCode()).toThrow(EngineStateError)
    const invite = laptopLinks.showCode()
    await expect(laptopLinks.linkDevice(invite.text, { confirm: yes })).rejects.toBeInstanceOf(EngineStateError)
    const chars = invite.text.split('')
    const at = 'tandem1-'.length + 5 // group 2, character 1
    chars[at] = chars[at] === 'q' ? 'p' : 'q'
    await expect(phoneLinks.linkDevice(chars.join(''), { confirm: yes })).rejects.toMatchObject({ code: 'ERR_INVALID_LINK_CODE', at: { group: 2, character: 1 } })
    nothingLinked()
  })
})
