import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  acceptLink,
  accountIdFromGenesis,
  ChainForkError,
  ChainGapError,
  type ChainLink,
  type ChainState,
  chainDeviceStatus,
  createGenesis,
  DeviceLimitError,
  decodeChainLink,
  encodeChainLink,
  InvalidDeviceListError,
  linkHash,
  listChainDevices,
  proposeLink,
  RevocationUndoneError,
  RevokedSignerError,
  revokedPeerIds,
  SignerNotCurrentError,
  StaleDeviceListError,
  TandemError,
  verifyChain,
  verifyGenesis,
  verifySuccessor,
  WrongAccountError
} from '../src/index.js'
import { asRecovery, dev, genesisOf, hex, nextBody, recovery, recovery2, signAny, sortDevices, sortKeys } from './chain-fixtures.js'

type ErrorClass = new (message: string) => TandemError

function rejects(f: () => unknown, type: ErrorClass, pattern?: RegExp): void {
  let thrown: unknown
  try {
    f()
  } catch (e) {
    thrown = e
  }
  expect(thrown, 'expected a rejection').toBeInstanceOf(type)
  if (pattern) expect((thrown as Error).message).toMatch(pattern)
}

// link 1: device 1 founds the account; link 2: device 1 adds devices 2 and 3; link 3: device 2 revokes device 3.
const g = genesisOf(1)
const link2 = proposeLink(
  g.state,
  [
    { type: 'add-device', device: dev(2).device },
    { type: 'add-device', device: dev(3).device }
  ],
  dev(1).signer,
  { issuedAt: 6_000 }
)
const s2 = verifySuccessor(g.state, link2)
const link3 = proposeLink(s2, [{ type: 'revoke-device', peerId: dev(3).peerId }], dev(2).signer, { issuedAt: 7_000 })
const s3 = verifySuccessor(s2, link3)

describe('a valid chain', () => {
  it('the genesis founds an account whose id is its hash; every link verifies on top of the one before', () => {
    expect(g.state.accountId).toMatch(/^a[a-z2-7]{32}$/)
    expect(g.state.accountId).toBe(accountIdFromGenesis(g.link))
    expect(verifyChain([g.link, link2, link3], { accountId: g.state.accountId }).headHash).toEqual(linkHash(link3))
    expect(s3.accountId).toBe(g.state.accountId) // the account id never changes
    expect(
      listChainDevices(s3)
        .map(d => d.peerId)
        .sort()
    ).toEqual([dev(1).peerId, dev(2).peerId].sort())
    expect(revokedPeerIds(s3)).toEqual([dev(3).peerId])
    expect(chainDeviceStatus(s3, dev(1).peerId)).toBe('listed')
    expect(chainDeviceStatus(s3, dev(3).peerId)).toBe('revoked')
    expect(chainDeviceStatus(s3, dev(9).peerId)).toBe('unlisted')
    expect(chainDeviceStatus(s3, 'not a peer id')).toBe('unlisted')
  })

  it('links survive the wire and verify the same', () => {
    const copy = [g.link, link2, link3].map(l => decodeChainLink(encodeChainLink(l)))
    expect(hex(verifyChain(copy).headHash)).toBe(hex(s3.headHash))
  })
})

describe('the genesis', () => {
  const body = (over = {}) => ({ ...nextBody(g.state, dev(1).signer), version: 1, prev: null, devices: [dev(1).device], revoked: [], ...over })

  it('must be signed by a device it lists', () => {
    rejects(() => verifyGenesis(signAny(body({ signer: { kind: 'device', publicKey: dev(2).key.publicKey } }), dev(2).key)), SignerNotCurrentError, /signed by a device it lists/)
    rejects(() => verifyGenesis(signAny(body({ signer: { kind: 'recovery', publicKey: recovery.publicKey } }), recovery)), SignerNotCurrentError)
  })

  it('revokes nothing, has a usable recovery key and usable device keys, a valid signature, and is link 1', () => {
    rejects(() => verifyGenesis(signAny(body({ revoked: [dev(9).key.publicKey] }), dev(1).key)), InvalidDeviceListError, /revokes nothing/)
    rejects(() => verifyGenesis(signAny(body({ recoveryKey: new Uint8Array(32) }), dev(1).key)), InvalidDeviceListError, /recovery key is not a usable/)
    const smallOrder = { ...dev(5).device, signingKey: new Uint8Array(32) }
    rejects(() => verifyGenesis(signAny(body({ devices: sortDevices([dev(1).device, smallOrder]) }), dev(1).key)), InvalidDeviceListError, /not a usable Ed25519 key/)
    const forged = { ...g.link, signature: g.link.signature.map((b, i) => (i === 0 ? b ^ 1 : b)) }
    rejects(() => verifyGenesis(forged), InvalidDeviceListError, /signature does not verify/)
    rejects(() => verifyGenesis(link2), InvalidDeviceListError, /starts with link 1/)
  })

  it('of another account is WrongAccountError', () => {
    const other = genesisOf(4)
    rejects(() => verifyGenesis(other.link, { accountId: g.state.accountId }), WrongAccountError)
    rejects(() => verifyChain([other.link], { accountId: g.state.accountId }), WrongAccountError)
    rejects(() => verifySuccessor(s3, other.link), WrongAccountError)
    rejects(() => verifySuccessor(s3, g.link), StaleDeviceListError, /genesis is not newer/)
  })
})

describe('a successor is rejected, each check on its own', () => {
  const by2 = dev(2).signer
  const valid = () => signAny(nextBody(s3, by2), dev(2).key)

  it('bad signature: any flipped signature bit, or a field changed after signing', () => {
    const link = valid()
    expect(() => verifySuccessor(s3, link)).not.toThrow()
    for (const bit of [0, 100, 511]) {
      const signature = link.signature.slice()
      signature[bit >> 3]! ^= 1 << (bit & 7)
      rejects(() => verifySuccessor(s3, { ...link, signature }), InvalidDeviceListError, /signature does not verify/)
    }
    const renamed = { ...link, devices: link.devices.map(d => ({ ...d, name: `${d.name}!` })) }
    rejects(() => verifySuccessor(s3, renamed), InvalidDeviceListError, /signature does not verify/)
    // signed by device 2 but claiming device 1 signed it
    rejects(() => verifySuccessor(s3, { ...link, signer: { kind: 'device', publicKey: dev(1).key.publicKey } }), InvalidDeviceListError, /signature does not verify/)
  })

  it('rolled-back version: an older link, or the head itself, is stale', () => {
    rejects(() => verifySuccessor(s3, link2), StaleDeviceListError, /older than the head/)
    rejects(() => verifySuccessor(s3, link3), StaleDeviceListError, /the head itself/)
    // a link 3 that builds on another link 2 is neither the head nor its sibling
    const elsewhere = signAny({ ...nextBody(s3, by2), version: 3, prev: new Uint8Array(32).fill(1) }, dev(2).key)
    rejects(() => verifySuccessor(s3, elsewhere), StaleDeviceListError, /not newer than the head/)
  })

  it('skipped or repeated version on top of the head: versions go up by one', () => {
    rejects(() => verifySuccessor(s3, signAny(nextBody(s3, by2, { version: 5 }), dev(2).key)), InvalidDeviceListError, /versions go up by one/)
    rejects(() => verifySuccessor(s3, signAny(nextBody(s3, by2, { version: 3 }), dev(2).key)), InvalidDeviceListError, /versions go up by one/)
  })

  it('a link past the head with links missing in between is a gap', () => {
    const s4 = verifySuccessor(s3, valid())
    const link5 = signAny(nextBody(s4, by2), dev(2).key)
    rejects(() => verifySuccessor(s3, link5), ChainGapError, /links 4 to 4 are missing/)
  })

  it('wrong previous hash: a sibling of the head, or a link on top of another link, is a fork', () => {
    const sibling = proposeLink(s2, [{ type: 'rename-device', peerId: dev(2).peerId, name: 'tablet' }], dev(1).signer, { issuedAt: 7_001 })
    rejects(() => verifySuccessor(s3, sibling), ChainForkError, /accepted first/)
    rejects(() => verifySuccessor(s3, signAny(nextBody(s3, by2, { prev: new Uint8Array(32).fill(3) }), dev(2).key)), ChainForkError, /not on the head link 3/)
  })

  it('signer not current: a key never listed, or a recovery key that is not the current one', () => {
    rejects(() => verifySuccessor(s3, signAny(nextBody(s3, dev(9).signer), dev(9).key)), SignerNotCurrentError, /not a device of link 3/)
    rejects(() => verifySuccessor(s3, signAny(nextBody(s3, asRecovery(recovery2)), recovery2)), SignerNotCurrentError, /not the current one/)
    // device 2 is listed in link 3 but was not yet in link 1: it could not have signed link 2
    rejects(() => verifySuccessor(g.state, signAny(nextBody(g.state, by2), dev(2).key)), SignerNotCurrentError)
  })

  it('revoked signer: a revoked device can never extend the chain, whatever it signs', () => {
    const by3 = dev(3).signer
    rejects(() => verifySuccessor(s3, signAny(nextBody(s3, by3), dev(3).key)), RevokedSignerError, /revoked/)
    const addsAnother = nextBody(s3, by3, { devices: sortDevices([...s3.head.devices, dev(7).device]) })
    rejects(() => verifySuccessor(s3, signAny(addsAnother, dev(3).key)), RevokedSignerError)
    const relistsItself = nextBody(s3, by3, { devices: sortDevices([...s3.head.devices, dev(3).device]), revoked: [] })
    rejects(() => verifySuccessor(s3, signAny(relistsItself, dev(3).key)), RevokedSignerError)
    // and the builder refuses before signing
    rejects(() => proposeLink(s3, [{ type: 'add-device', device: dev(7).device }], by3, { issuedAt: 1 }), RevokedSignerError)
  })

  it('revoked device re-listed, or un-revoked: revocation is one-way', () => {
    const relisted = nextBody(s3, by2, { devices: sortDevices([...s3.head.devices, dev(3).device]), revoked: [] })
    rejects(() => verifySuccessor(s3, signAny(relisted, dev(2).key)), RevocationUndoneError, /un-revokes device/)
    rejects(() => verifySuccessor(s3, signAny(nextBody(s3, by2, { revoked: [] }), dev(2).key)), RevocationUndoneError)
    // listed and revoked in one link does not even encode
    const both = nextBody(s3, by2, { devices: sortDevices([...s3.head.devices, dev(3).device]) })
    rejects(() => signAny(both, dev(2).key), InvalidDeviceListError, /both listed and revoked/)
    rejects(() => proposeLink(s3, [{ type: 'add-device', device: dev(3).device }], by2, { issuedAt: 1 }), RevocationUndoneError)
  })

  it('a device leaves the list only by revocation', () => {
    const dropped = nextBody(s3, by2, { devices: s3.head.devices.filter(d => hex(d.signingKey) !== hex(dev(1).key.publicKey)) })
    rejects(() => verifySuccessor(s3, signAny(dropped, dev(2).key)), InvalidDeviceListError, /drops device .* without revoking it/)
  })

  it("a listed device's agreement key and linkedAt never change; new keys must be usable", () => {
    const swap = (over: object) => nextBody(s3, by2, { devices: s3.head.devices.map(d => (hex(d.signingKey) === hex(dev(1).key.publicKey) ? { ...d, ...over } : d)) })
    rejects(() => verifySuccessor(s3, signAny(swap({ agreementKey: new Uint8Array(32).fill(9) }), dev(2).key)), InvalidDeviceListError, /agreement key or linkedAt/)
    rejects(() => verifySuccessor(s3, signAny(swap({ linkedAt: 1 }), dev(2).key)), InvalidDeviceListError, /agreement key or linkedAt/)
    const smallOrder = { ...dev(8).device, signingKey: new Uint8Array(32) }
    rejects(() => verifySuccessor(s3, signAny(nextBody(s3, by2, { devices: sortDevices([...s3.head.devices, smallOrder]) }), dev(2).key)), InvalidDeviceListError, /not a usable/)
    rejects(() => verifySuccessor(s3, signAny(nextBody(s3, by2, { recoveryKey: new Uint8Array(32) }), dev(2).key)), InvalidDeviceListError, /new recovery key is not a usable/)
    // names and platforms may change (any current device renames any other)
    expect(() => verifySuccessor(s3, signAny(swap({ name: 'kitchen', platform: 'ios' }), dev(2).key))).not.toThrow()
  })

  it('any byte changed in an encoded valid successor: it no longer decodes, or it is rejected (property)', () => {
    const link = proposeLink(s3, [{ type: 'add-device', device: dev(6).device }], by2, { issuedAt: 8_000 })
    const bytes = encodeChainLink(link)
    fc.assert(
      fc.property(fc.nat({ max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const changed = bytes.slice()
        changed[at]! ^= xor
        let decoded: ChainLink
        try {
          decoded = decodeChainLink(changed)
        } catch (e) {
          if (!(e instanceof TandemError)) throw e
          return
        }
        try {
          acceptLink(s3, decoded)
        } catch (e) {
          if (!(e instanceof TandemError)) throw e
          return
        }
        throw new Error(`a changed byte at ${at} was accepted`)
      }),
      { numRuns: 150 }
    )
  })
})

describe('acceptLink: the relay keeps the first valid successor', () => {
  const a = proposeLink(s2, [{ type: 'add-device', device: dev(4).device }], dev(1).signer, { issuedAt: 7_100 })
  const b = proposeLink(s2, [{ type: 'add-device', device: dev(5).device }], dev(2).signer, { issuedAt: 7_200 })

  it('first come wins, the other is a fork, the winner again is no change', () => {
    for (const [first, second] of [
      [a, b],
      [b, a]
    ] as const) {
      const won = acceptLink(s2, first)
      expect(won.added).toBe(true)
      rejects(() => acceptLink(won.state, second), ChainForkError)
      expect(acceptLink(won.state, first)).toEqual({ state: won.state, added: false })
    }
  })

  it('a new account: no head takes a genesis (and only a genesis)', () => {
    const created = acceptLink(null, g.link, { accountId: g.state.accountId })
    expect(created.added).toBe(true)
    expect(created.state.accountId).toBe(g.state.accountId)
    rejects(() => acceptLink(null, link2), InvalidDeviceListError, /starts with link 1/)
    rejects(() => acceptLink(s3, a, { accountId: genesisOf(4).state.accountId }), WrongAccountError)
  })

  it('the device limit: a link that adds past it is refused; one that adds nothing is not', () => {
    const policy = { maxDevices: 3 }
    const four = proposeLink(s2, [{ type: 'add-device', device: dev(4).device }], dev(1).signer, { issuedAt: 1 }) // 4 listed: fine by default
    rejects(() => acceptLink(s2, four, { policy }), DeviceLimitError, /over the account's limit of 3/)
    const s4 = acceptLink(s2, four).state
    const rename = proposeLink(s4, [{ type: 'rename-device', peerId: dev(4).peerId, name: 'four' }], dev(1).signer, { issuedAt: 2 })
    expect(acceptLink(s4, rename, { policy }).added).toBe(true)
    rejects(() => proposeLink(s2, [{ type: 'add-device', device: dev(4).device }], dev(1).signer, { issuedAt: 1, policy }), DeviceLimitError)
    // the default is 10 active devices
    let state: ChainState = g.state
    for (let i = 2; i <= 10; i++) state = acceptLink(state, proposeLink(state, [{ type: 'add-device', device: dev(i).device }], dev(1).signer, { issuedAt: i })).state
    expect(state.devices.size).toBe(10)
    const eleventh = signAny(nextBody(state, dev(1).signer, { devices: sortDevices([...state.head.devices, dev(11).device]) }), dev(1).key)
    rejects(() => acceptLink(state, eleventh), DeviceLimitError)
    expect(() => verifySuccessor(state, eleventh)).not.toThrow() // a policy of who appends, not a rule of the chain
    rejects(() => acceptLink(state, eleventh, { policy: { maxDevices: 0 } }), RangeError as unknown as ErrorClass)
  })
})

describe('verifyChain', () => {
  it('refuses a chain that is empty, out of order, missing a link or founded elsewhere', () => {
    rejects(() => verifyChain([]), InvalidDeviceListError)
    rejects(() => verifyChain([g.link, link3, link2]), ChainGapError)
    rejects(() => verifyChain([link2, link3]), InvalidDeviceListError, /starts with link 1/)
    rejects(() => verifyChain([g.link, link3]), ChainGapError)
    rejects(() => verifyChain([g.link, link2, link3], { accountId: genesisOf(4).state.accountId }), WrongAccountError)
  })
})

describe('the recovery key', () => {
  it('signs a link that lists a fresh device and revokes every lost one; that device then signs', () => {
    const recovered = proposeLink(
      s3,
      [
        { type: 'revoke-device', peerId: dev(1).peerId },
        { type: 'revoke-device', peerId: dev(2).peerId },
        { type: 'add-device', device: dev(6).device }
      ],
      asRecovery(),
      { issuedAt: 9_000 }
    )
    const s4 = acceptLink(s3, recovered).state
    expect(listChainDevices(s4).map(d => d.peerId)).toEqual([dev(6).peerId])
    expect(revokedPeerIds(s4).sort()).toEqual([dev(1).peerId, dev(2).peerId, dev(3).peerId].sort())
    const next = proposeLink(s4, [{ type: 'add-device', device: dev(7).device }], dev(6).signer, { issuedAt: 9_100 })
    expect(acceptLink(s4, next).added).toBe(true)
    // the lost devices, still holding their keys, can do nothing
    rejects(() => acceptLink(s4, signAny(nextBody(s4, dev(1).signer, { devices: sortDevices([...s4.head.devices, dev(8).device]) }), dev(1).key)), RevokedSignerError)
  })

  it('rotates: after a new recovery key, only the new one signs', () => {
    const rotated = proposeLink(s3, [{ type: 'set-recovery-key', recoveryKey: recovery2.publicKey }], asRecovery(), { issuedAt: 9_000 })
    const s4 = acceptLink(s3, rotated).state
    expect(hex(s4.recoveryKey)).toBe(hex(recovery2.publicKey))
    rejects(() => acceptLink(s4, signAny(nextBody(s4, asRecovery(recovery)), recovery)), SignerNotCurrentError)
    rejects(() => proposeLink(s4, [], asRecovery(recovery), { issuedAt: 1 }), SignerNotCurrentError)
    expect(acceptLink(s4, proposeLink(s4, [], asRecovery(recovery2), { issuedAt: 9_100 })).added).toBe(true)
    // a current device may rotate it too (a lost phrase must be replaceable)
    const byDevice = proposeLink(s3, [{ type: 'set-recovery-key', recoveryKey: recovery2.publicKey }], dev(1).signer, { issuedAt: 9_000 })
    expect(acceptLink(s3, byDevice).added).toBe(true)
  })
})

describe('building links', () => {
  it('createGenesis refuses a device that is not the signer, and an unusable recovery key', () => {
    rejects(() => createGenesis({ device: dev(2).device, signer: dev(1).key, recoveryKey: recovery.publicKey, issuedAt: 1 }), InvalidDeviceListError)
    rejects(() => createGenesis({ device: dev(1).device, signer: dev(1).key, recoveryKey: new Uint8Array(32), issuedAt: 1 }), InvalidDeviceListError)
  })

  it('proposeLink sorts what it signs and copies its input', () => {
    const device = { ...dev(9).device, signingKey: dev(9).key.publicKey.slice() }
    const link = proposeLink(s3, [{ type: 'add-device', device }], dev(1).signer, { issuedAt: 1 })
    device.signingKey.fill(0)
    expect(link.devices.map(d => hex(d.signingKey))).toEqual(sortKeys(link.devices.map(d => d.signingKey)).map(hex))
    expect(() => verifySuccessor(s3, link)).not.toThrow()
  })
})
