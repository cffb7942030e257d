import { describe, expect, it } from 'vitest'
import {
  AttemptLimiter,
  acceptLink,
  createPassphraseVerifier,
  type ChainDevice,
  decodeChain,
  decodeLinkFrame,
  derivePassphraseKey,
  encodeChain,
  encodeLinkFrame,
  InvalidDeviceListError,
  LinkCodeExpiredError,
  LinkCodeHolder,
  LinkCodeUsedError,
  LinkDeclinedError,
  LinkDialer,
  type LinkFrame,
  LinkListener,
  LinkProofError,
  LinkRateLimitedError,
  linkProof,
  MalformedFrameError,
  type PassphraseVerifier,
  proposeLink,
  type TandemError,
  WrongAccountError,
  WrongPassphraseError
} from '../src/index.js'
import { dev, genesisOf } from './chain-fixtures.js'
import { NOW, typicalCode } from './link-arbitraries.js'

/** The new device is dev(5): the code names its peer key; it describes itself with dev(5)'s agreement key. */
const NEW = dev(5)
const EXISTING = dev(1)
const TEST_PARAMS = { t: 1, m: 64, p: 1 }
const code = () => typicalCode({ peerId: NEW.peerId })
const info = { agreementKey: NEW.device.agreementKey, name: 'laptop', platform: 'node' }

interface Pair {
  dialer: LinkDialer
  listener: LinkListener
  holder: LinkCodeHolder
  /** Every frame that crossed, as the wire carried it. */
  log: string[]
  deliver(fromDialer: LinkFrame[], fromListener?: LinkFrame[]): void
}

/** A dialer and a listener joined in memory; every frame goes through the codec both ways. */
function pair(
  options: { holder?: LinkCodeHolder; dialerCode?: ReturnType<typeof code>; passphrase?: PassphraseVerifier | null; limiter?: AttemptLimiter; nonce?: number } = {}
): Pair {
  const holder = options.holder ?? new LinkCodeHolder(code(), () => NOW)
  const dialer = new LinkDialer({
    code: options.dialerCode ?? code(),
    localPeerId: EXISTING.peerId,
    remotePeerId: NEW.peerId,
    nonce: new Uint8Array(32).fill(options.nonce ?? 1),
    passphrase: options.passphrase ?? null,
    limiter: options.limiter ?? new AttemptLimiter(() => NOW)
  })
  const listener = new LinkListener({ holder, remotePeerId: EXISTING.peerId, nonce: new Uint8Array(32).fill(2), device: info })
  const log: string[] = []
  const wire = (frames: LinkFrame[]) => frames.map(f => decodeLinkFrame(encodeLinkFrame(f)))
  const deliver = (fromDialer: LinkFrame[], fromListener: LinkFrame[] = []) => {
    let toListener = wire(fromDialer)
    let toDialer = wire(fromListener)
    while (toListener.length + toDialer.length > 0) {
      const next: LinkFrame[] = []
      const back: LinkFrame[] = []
      for (const f of toListener) {
        log.push(`→ ${f.type}`)
        back.push(...listener.receive(f))
      }
      for (const f of toDialer) {
        log.push(`← ${f.type}`)
        next.push(...dialer.receive(f))
      }
      toListener = wire(next)
      toDialer = wire(back)
    }
  }
  return { dialer, listener, holder, log, deliver }
}

const start = (p: Pair) => p.deliver(p.dialer.hello(), p.listener.hello())

/** The new device as it describes itself: its keys, and the name and platform it sends. */
const LISTED: ChainDevice = { ...NEW.device, name: info.name, platform: info.platform }

/** The chain of an account founded by the existing device, whose head (signed by `signer`, default the existing device) adds `device`. */
function approvalFor(device: ChainDevice = LISTED, signer = EXISTING) {
  const genesis = genesisOf(1)
  const links = [genesis.link]
  let state = genesis.state
  if (signer !== EXISTING) {
    const link = proposeLink(state, [{ type: 'add-device', device: signer.device }], EXISTING.signer, { issuedAt: 5_500 })
    links.push(link)
    state = acceptLink(state, link).state
  }
  const link = proposeLink(state, [{ type: 'add-device', device }], signer.signer, { issuedAt: 6_000 })
  acceptLink(state, link) // what the relay would do before the approval is sent
  return { accountId: state.accountId, chain: encodeChain([...links, link]), keyMaterial: new Uint8Array([1, 2, 3]), hints: [{ chatId: 'c0ffee', segment: 2 }] }
}

const failedWith = (p: Pair, Type: new (...a: never[]) => TandemError) => {
  expect(p.dialer.state).toBe('failed')
  expect(p.listener.state).toBe('failed')
  expect(p.dialer.error).toBeInstanceOf(Type)
  expect(p.listener.error).toBeInstanceOf(Type)
  expect(p.listener.approval).toBeNull()
}

describe('a link session', () => {
  it('without a passphrase: proofs, the same six digits on both screens, confirmation, approval carrying the account’s chain, done', () => {
    const p = pair()
    start(p)
    expect(p.dialer.state).toBe('confirming')
    expect(p.listener.state).toBe('confirming')
    expect(p.dialer.confirmation).toMatch(/^\d{6}$/)
    expect(p.listener.confirmation).toBe(p.dialer.confirmation)
    expect(p.dialer.device).toEqual(info)
    expect(p.holder.state).toBe('claimed')
    expect(p.dialer.approvable).toBe(false)
    p.deliver(p.dialer.confirm())
    expect(p.dialer.approvable).toBe(true)
    const approval = approvalFor()
    p.deliver(p.dialer.approve(approval))
    expect(p.dialer.state).toBe('finished')
    expect(p.listener.state).toBe('finished')
    expect(p.listener.approval).toEqual(approval)
    expect(
      decodeChain(p.listener.approval!.chain)
        .at(-1)!
        .devices.map(d => d.name)
    ).toContain(info.name)
    expect(p.log).toEqual(['→ hello', '← hello', '→ proof', '← proof', '← device', '→ confirmed', '→ approval', '← done'])
  })

  it('with a passphrase: a wrong one is answered with a retry and the limiter’s wait, the right one is approved', async () => {
    const verifier = await createPassphraseVerifier('open sesame', n => new Uint8Array(n).fill(4), { params: TEST_PARAMS, minimum: TEST_PARAMS })
    let now = NOW
    const limiter = new AttemptLimiter(() => now, { limits: { freeAttempts: 1, baseDelayMs: 1_000 } })
    const p = pair({ passphrase: verifier, limiter })
    start(p)
    p.deliver(p.dialer.confirm())
    const challenge = p.listener.passphraseChallenge!
    expect(challenge).toMatchObject({ params: TEST_PARAMS, retryAfterMs: 0, wrongAttempts: 0 })
    const key = (text: string) => derivePassphraseKey(text, challenge.salt, challenge.params, { minimum: TEST_PARAMS })

    p.deliver([], p.listener.answerPassphrase(await key('open sesam')))
    expect(p.listener.passphraseChallenge).toMatchObject({ retryAfterMs: 1_000, wrongAttempts: 1 })
    expect(p.dialer.approvable).toBe(false)
    now += 1_000
    p.deliver([], p.listener.answerPassphrase(await key('open sesame')))
    expect(p.dialer.approvable).toBe(true)
    expect(limiter.state.failures).toBe(0)
    p.deliver(p.dialer.approve(approvalFor()))
    expect(p.listener.state).toBe('finished')
  })

  it('an answer before the announced wait is ERR_LINK_RATE_LIMITED on both sides, and links nothing', async () => {
    const verifier = await createPassphraseVerifier('open sesame', n => new Uint8Array(n).fill(4), { params: TEST_PARAMS, minimum: TEST_PARAMS })
    const limiter = new AttemptLimiter(() => NOW, { limits: { freeAttempts: 1, baseDelayMs: 30_000 } })
    const p = pair({ passphrase: verifier, limiter })
    start(p)
    p.deliver(p.dialer.confirm())
    const { salt, params } = p.listener.passphraseChallenge!
    p.deliver([], p.listener.answerPassphrase(await derivePassphraseKey('wrong', salt, params, { minimum: TEST_PARAMS })))
    expect(p.listener.passphraseChallenge!.retryAfterMs).toBe(30_000)
    p.deliver([], p.listener.answerPassphrase(await derivePassphraseKey('open sesame', salt, params, { minimum: TEST_PARAMS })))
    failedWith(p, LinkRateLimitedError)
    expect((p.dialer.error as LinkRateLimitedError).retryAfterMs).toBe(30_000)
  })

  it('a third wrong passphrase in one session ends it with ERR_WRONG_PASSPHRASE on both sides; the limiter counted all three', async () => {
    const verifier = await createPassphraseVerifier('open sesame', n => new Uint8Array(n).fill(4), { params: TEST_PARAMS, minimum: TEST_PARAMS })
    const limiter = new AttemptLimiter(() => NOW)
    const p = pair({ passphrase: verifier, limiter })
    start(p)
    p.deliver(p.dialer.confirm())
    const { salt, params } = p.listener.passphraseChallenge!
    const wrong = await derivePassphraseKey('wrong', salt, params, { minimum: TEST_PARAMS })
    p.deliver([], p.listener.answerPassphrase(wrong))
    p.deliver([], p.listener.answerPassphrase(wrong))
    expect(p.listener.passphraseChallenge).toMatchObject({ wrongAttempts: 2 })
    p.deliver([], p.listener.answerPassphrase(wrong))
    failedWith(p, WrongPassphraseError)
    expect(limiter.state.failures).toBe(3)
  })

  it('a wrong secret is ERR_LINK_PROOF on both sides; the code stays open for the right device', () => {
    const p = pair({ dialerCode: { ...code(), secret: new Uint8Array(16).fill(1) } })
    start(p)
    failedWith(p, LinkProofError)
    expect(p.listener.confirmation).toBeNull()
    expect(p.dialer.confirmation).toBeNull()
    expect(p.log).toEqual(['→ hello', '← hello', '→ proof', '← error'])
    const again = pair({ holder: p.holder })
    start(again)
    expect(again.listener.state).toBe('confirming')
  })

  it('a code used once is ERR_LINK_CODE_USED for every later session, even if the first was declined', () => {
    const first = pair()
    start(first)
    first.deliver(first.dialer.decline())
    failedWith(first, LinkDeclinedError)
    const second = pair({ holder: first.holder, nonce: 9 })
    start(second)
    failedWith(second, LinkCodeUsedError)
  })

  it('an expired code is ERR_LINK_CODE_EXPIRED on both sides', () => {
    const p = pair({ holder: new LinkCodeHolder(code(), () => code().expiresAt) })
    start(p)
    failedWith(p, LinkCodeExpiredError)
  })

  it('digits that do not match: declined on either screen, nothing is approved', () => {
    for (const side of ['dialer', 'listener'] as const) {
      const p = pair()
      start(p)
      if (side === 'dialer') p.deliver(p.dialer.decline())
      else p.deliver([], p.listener.decline())
      failedWith(p, LinkDeclinedError)
      expect(p.dialer.approve(approvalFor())).toEqual([])
    }
  })

  it('the dialer checks the new device’s proof: one replayed from another session, or a listener without the secret, is ERR_LINK_PROOF', () => {
    const earlier = pair()
    start(earlier)
    const replayed = linkProof(code().secret, earlier.dialer.transcript!, 'listener')
    const p = pair({ nonce: 7 })
    p.dialer.receive(p.listener.hello()[0]!)
    expect(p.dialer.receive({ type: 'proof', proof: replayed })).toMatchObject([{ type: 'error', code: 'ERR_LINK_PROOF' }])
    expect(p.dialer.error).toBeInstanceOf(LinkProofError)
    expect(p.dialer.confirmation).toBeNull()
  })

  it('the dialer refuses a stream whose Noise peer is not the device in the code', () => {
    expect(
      () =>
        new LinkDialer({
          code: code(),
          localPeerId: EXISTING.peerId,
          remotePeerId: dev(6).peerId,
          nonce: new Uint8Array(32),
          passphrase: null,
          limiter: new AttemptLimiter(() => NOW)
        })
    ).toThrow(LinkProofError)
  })

  it('frames out of order end the session: nothing before hello, no second hello, no approval before confirmation, no approval before it may', () => {
    const early = pair()
    early.deliver([{ type: 'confirmed' }])
    expect(early.listener.error).toBeInstanceOf(MalformedFrameError)
    expect(early.listener.error!.message).toMatch(/before the peer's hello/)

    const twice = pair()
    start(twice)
    twice.deliver(twice.dialer.hello())
    expect(twice.listener.error!.message).toMatch(/a second hello/)

    const skip = pair()
    start(skip)
    skip.deliver([{ type: 'approval', ...approvalFor() }])
    failedWith(skip, MalformedFrameError)

    const unconfirmed = pair()
    start(unconfirmed)
    expect(unconfirmed.dialer.approve(approvalFor())).toMatchObject([{ type: 'error', code: 'ERR_MALFORMED_FRAME' }])
    expect(unconfirmed.dialer.state).toBe('failed')
  })

  it('an approval whose chain head does not list the new device as it described itself, or was signed by another device than the dialer, is ERR_LINK_PROOF', () => {
    const other = dev(6).device
    const cases = [
      approvalFor(other),
      approvalFor({ ...LISTED, agreementKey: other.agreementKey }),
      approvalFor({ ...LISTED, name: 'not the laptop' }),
      approvalFor({ ...LISTED, platform: 'browser' }),
      approvalFor(LISTED, dev(3))
    ]
    for (const approval of cases) {
      const p = pair()
      start(p)
      p.deliver(p.dialer.confirm())
      p.deliver(p.dialer.approve(approval))
      failedWith(p, LinkProofError)
    }
  })

  it('an approval whose chain does not verify, or is of another account than it says, fails with the chain rules’ error', () => {
    const good = approvalFor()
    const links = decodeChain(good.chain)
    const cases: Array<[ReturnType<typeof approvalFor>, new (...a: never[]) => TandemError]> = [
      [{ ...good, chain: encodeChain(links.slice(1)) }, InvalidDeviceListError], // no genesis
      [{ ...good, chain: encodeChain([links[0]!, { ...links[1]!, issuedAt: 1 }]) }, InvalidDeviceListError], // signature broken
      [{ ...good, chain: good.chain.subarray(0, 40) }, InvalidDeviceListError], // not a chain
      [{ ...good, accountId: `a${'b'.repeat(31)}` }, WrongAccountError]
    ]
    for (const [approval, Type] of cases) {
      const p = pair()
      start(p)
      p.deliver(p.dialer.confirm())
      p.deliver(p.dialer.approve(approval))
      failedWith(p, Type)
    }
  })

  it('a grant too large for one frame ends the session with ERR_FRAME_TOO_LARGE instead of failing in the transport', () => {
    const p = pair()
    start(p)
    p.deliver(p.dialer.confirm())
    p.deliver(p.dialer.approve({ ...approvalFor(), keyMaterial: new Uint8Array(64 * 1024 + 1) }))
    expect(p.dialer.error?.code).toBe('ERR_FRAME_TOO_LARGE')
    expect(p.listener.error?.code).toBe('ERR_FRAME_TOO_LARGE')
    expect(p.listener.approval).toBeNull()
  })
})
