import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  InvalidCredentialsError,
  InvalidDeviceListError,
  MAX_DEVICE_NAME_BYTES,
  MAX_DEVICES,
  MAX_PEER_ID_BYTES,
  MAX_REVOKED,
  StaleDeviceListError,
  TandemError,
  UnsupportedVersionError,
  WrongAccountError,
  accountIdFromPublicKey,
  accountKeyFromSecret,
  checkDeviceListSuccessor,
  decodeSignedDeviceList,
  deviceListAccountId,
  deviceStatus,
  encodeSignedDeviceList,
  signDeviceList,
  verifyDeviceList,
  type DeviceListEntry,
  type SignedDeviceList
} from '../src/index.js'
import { boundedString, deviceListArb, distinctAscii, peerIdPool, smallDeviceListArb } from './arbitraries.js'
import { equalBytes, expectSameValue, mutate, mutationArb } from './helpers.js'

const account = accountKeyFromSecret(new Uint8Array(32).fill(1))
const other = accountKeyFromSecret(new Uint8Array(32).fill(2))
const accountId = accountIdFromPublicKey(account.publicKey)

const body = (over: Partial<{ version: number; devices: DeviceListEntry[]; revoked: string[]; issuedAt: number }> = {}) => ({
  version: 1,
  devices: [
    { peerId: 'p1', name: 'phone', createdAt: 1 },
    { peerId: 'p2', name: 'laptop', createdAt: 2 }
  ],
  revoked: [],
  issuedAt: 10,
  ...over
})

describe('device list encoding (property)', () => {
  it('decode(encode(list)) equals list, every bound included', () => {
    fc.assert(
      fc.property(deviceListArb, list => {
        expectSameValue(decodeSignedDeviceList(encodeSignedDeviceList(list)), list)
      }),
      { numRuns: 300 }
    )
  })

  it('arbitrary, mutated or truncated bytes: a list that re-encodes to the same bytes, or a TandemError', () => {
    const arb = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc
        .tuple(smallDeviceListArb, fc.array(mutationArb([MAX_DEVICES, MAX_REVOKED, MAX_PEER_ID_BYTES, 2 ** 30]), { minLength: 1, maxLength: 3 }))
        .map(([list, ms]) => ms.reduce(mutate, encodeSignedDeviceList(list)))
    )
    fc.assert(
      fc.property(arb, bytes => {
        let list: SignedDeviceList
        try {
          list = decodeSignedDeviceList(bytes)
        } catch (e) {
          if (!(e instanceof TandemError)) throw e
          return
        }
        if (!equalBytes(encodeSignedDeviceList(list), bytes)) throw new Error('accepted bytes are not canonical')
      }),
      { numRuns: 2000 }
    )
  })

  it('a worst-case list (every bound at once) stays well under a frame', () => {
    const list: SignedDeviceList = {
      accountPublicKey: new Uint8Array(32),
      version: Number.MAX_SAFE_INTEGER,
      devices: distinctAscii(MAX_DEVICES, MAX_PEER_ID_BYTES, 0).map(peerId => ({
        peerId,
        name: 'n'.repeat(MAX_DEVICE_NAME_BYTES),
        createdAt: Number.MAX_SAFE_INTEGER
      })),
      revoked: distinctAscii(MAX_REVOKED, MAX_PEER_ID_BYTES, 1),
      issuedAt: Number.MAX_SAFE_INTEGER,
      signature: new Uint8Array(64)
    }
    expect(encodeSignedDeviceList(list).length).toBeLessThan(240 * 1024)
  })

  it('bounds, duplicates, version 0 and unknown format versions are refused both ways', () => {
    const list = signDeviceList(account, body())
    const bad = (l: SignedDeviceList) => {
      expect(() => encodeSignedDeviceList(l)).toThrow(InvalidDeviceListError)
      expect(() => verifyDeviceList(l)).toThrow(InvalidDeviceListError)
    }
    bad({ ...list, devices: distinctAscii(MAX_DEVICES + 1, 8, 0).map(peerId => ({ peerId, name: '', createdAt: 0 })) })
    bad({ ...list, revoked: distinctAscii(MAX_REVOKED + 1, 8, 0) })
    bad({ ...list, devices: [...list.devices, { peerId: 'p1', name: 'again', createdAt: 3 }] })
    bad({ ...list, revoked: ['x', 'x'] })
    bad({ ...list, version: 0 })
    bad({ ...list, version: 1.5 })
    bad({ ...list, devices: [{ peerId: 'p'.repeat(MAX_PEER_ID_BYTES + 1), name: '', createdAt: 0 }] })
    bad({ ...list, devices: [{ peerId: 'p', name: 'n'.repeat(MAX_DEVICE_NAME_BYTES + 1), createdAt: 0 }] })
    bad({ ...list, devices: null as unknown as DeviceListEntry[] })
    bad({ ...list, devices: [null as unknown as DeviceListEntry] })
    bad({ ...list, signature: list.signature.subarray(0, 63) })

    // On the wire: version 0 and a duplicate peer id (bytes the encoder would never write).
    const bytes = encodeSignedDeviceList(list)
    const v0 = bytes.slice()
    v0[33] = 0 // format version, 32-byte key, then the list version
    expect(() => decodeSignedDeviceList(v0)).toThrow(/version must be at least 1/)
    const dup = encodeSignedDeviceList({ ...list, devices: [list.devices[0]!, { ...list.devices[0]!, peerId: 'p2' }] })
    dup[dup.indexOf(0x32, 36)] = 0x31 // the second peer id 'p2' → 'p1'
    expect(() => decodeSignedDeviceList(dup)).toThrow(/appears twice/)
    const future = bytes.slice()
    future[0] = 2
    expect(() => decodeSignedDeviceList(future)).toThrow(UnsupportedVersionError)
  })
})

describe('device list signatures', () => {
  // A few fixed accounts: deriving a key per run would double the cost of this property.
  const keyArb = fc.constantFrom(...[3, 4, 5].map(b => accountKeyFromSecret(new Uint8Array(32).fill(b))))
  const bodyArb = fc.record({
    version: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    devices: fc.uniqueArray(fc.record({ peerId: boundedString(MAX_PEER_ID_BYTES), name: boundedString(MAX_DEVICE_NAME_BYTES), createdAt: fc.maxSafeNat() }), {
      selector: d => d.peerId,
      maxLength: 4
    }),
    revoked: fc.uniqueArray(boundedString(MAX_PEER_ID_BYTES), { maxLength: 4 }),
    issuedAt: fc.maxSafeNat()
  })

  type Tamper =
    | { field: 'accountPublicKey' | 'signature'; bit: number }
    | { field: 'version' | 'issuedAt'; delta: number }
    | { field: 'devices'; kind: 'add' | 'drop' | 'rename' | 'reorder' | 'createdAt' }
    | { field: 'revoked'; kind: 'add' | 'drop' }

  const tamperArb: fc.Arbitrary<Tamper> = fc.oneof(
    fc.record({ field: fc.constantFrom('accountPublicKey' as const), bit: fc.nat({ max: 255 }) }),
    fc.record({ field: fc.constantFrom('signature' as const), bit: fc.nat({ max: 511 }) }),
    fc.record({ field: fc.constantFrom('version' as const, 'issuedAt' as const), delta: fc.integer({ min: 1, max: 5 }) }),
    fc.record({ field: fc.constant('devices' as const), kind: fc.constantFrom('add' as const, 'drop' as const, 'rename' as const, 'reorder' as const, 'createdAt' as const) }),
    fc.record({ field: fc.constant('revoked' as const), kind: fc.constantFrom('add' as const, 'drop' as const) })
  )

  function tamper(list: SignedDeviceList, t: Tamper): SignedDeviceList | null {
    const flip = (bytes: Uint8Array, bit: number) => {
      const out = bytes.slice()
      out[bit >> 3]! ^= 1 << (bit & 7)
      return out
    }
    switch (t.field) {
      case 'accountPublicKey':
      case 'signature':
        return { ...list, [t.field]: flip(list[t.field], t.bit) }
      case 'version':
      case 'issuedAt':
        return list[t.field] > 1 ? { ...list, [t.field]: list[t.field] - 1 } : { ...list, [t.field]: list[t.field] + t.delta }
      case 'devices': {
        const d = list.devices
        if (t.kind === 'add') return { ...list, devices: [...d, { peerId: '\u0000new', name: '', createdAt: 0 }] }
        if (d.length === 0) return null
        if (t.kind === 'drop') return { ...list, devices: d.slice(1) }
        if (t.kind === 'rename') return { ...list, devices: [{ ...d[0]!, name: `${d[0]!.name}!` }, ...d.slice(1)] }
        if (t.kind === 'createdAt') return { ...list, devices: [{ ...d[0]!, createdAt: d[0]!.createdAt ^ 1 }, ...d.slice(1)] }
        return d.length > 1 ? { ...list, devices: [...d.slice(1), d[0]!] } : null // order is signed as given
      }
      case 'revoked':
        if (t.kind === 'add') return { ...list, revoked: [...list.revoked, '\u0000new'] }
        return list.revoked.length > 0 ? { ...list, revoked: list.revoked.slice(1) } : null
    }
  }

  it('a signed list verifies (also after a trip over the wire); any tampered field does not', () => {
    fc.assert(
      fc.property(keyArb, bodyArb, tamperArb, (key, b, t) => {
        const id = accountIdFromPublicKey(key.publicKey)
        const list = signDeviceList(key, b)
        // Verifying the decoded copy covers both: the list verifies, and survives the wire.
        expect(verifyDeviceList(decodeSignedDeviceList(encodeSignedDeviceList(list)), { accountId: id })).toBe(id)
        expect(deviceListAccountId(list)).toBe(id)
        const tampered = tamper(list, t)
        fc.pre(tampered !== null)
        expect(() => verifyDeviceList(tampered)).toThrow(InvalidDeviceListError)
      }),
      { numRuns: 100 }
    )
  })

  it("another account's valid list is WrongAccountError; a mismatched key pair cannot sign", () => {
    const list = signDeviceList(other, body())
    expect(() => verifyDeviceList(list, { accountId })).toThrow(WrongAccountError)
    expect(() => signDeviceList({ publicKey: other.publicKey, secretKey: account.secretKey }, body())).toThrow(InvalidCredentialsError)
  })

  it('signing copies its input; a small-order key never verifies', () => {
    const b = body()
    const list = signDeviceList(account, b)
    b.devices[0]!.name = 'changed'
    b.revoked.push('x')
    expect(verifyDeviceList(list)).toBe(accountId)
    expect(() => verifyDeviceList({ ...list, accountPublicKey: new Uint8Array(32) })).toThrow(InvalidDeviceListError)
  })
})

describe('checkDeviceListSuccessor', () => {
  const v = (version: number, revoked: string[], key = account) => signDeviceList(key, body({ version, revoked }))

  it('any valid list follows null; a greater version keeping every revocation follows', () => {
    expect(() => checkDeviceListSuccessor(null, v(1, []))).not.toThrow()
    expect(() => checkDeviceListSuccessor(v(1, []), v(2, ['p2']))).not.toThrow()
    expect(() => checkDeviceListSuccessor(v(2, ['p2']), v(9, ['p3', 'p2']))).not.toThrow()
  })

  it('an equal or older version is stale', () => {
    expect(() => checkDeviceListSuccessor(v(2, []), v(2, []))).toThrow(StaleDeviceListError)
    expect(() => checkDeviceListSuccessor(v(3, []), v(2, []))).toThrow(StaleDeviceListError)
  })

  it('un-revoking is stale, even with a greater version', () => {
    expect(() => checkDeviceListSuccessor(v(1, ['p2']), v(2, []))).toThrow(/un-revokes p2/)
    expect(() => checkDeviceListSuccessor(v(1, ['p2']), v(2, []))).toThrow(StaleDeviceListError)
  })

  it("another account's list is stale", () => {
    expect(() => checkDeviceListSuccessor(v(1, []), v(2, [], other))).toThrow(StaleDeviceListError)
  })

  it('malformed lists are InvalidDeviceListError', () => {
    expect(() => checkDeviceListSuccessor(null, { ...v(1, []), version: 0 })).toThrow(InvalidDeviceListError)
    expect(() => checkDeviceListSuccessor({ ...v(1, []), revoked: 'p1' as unknown as string[] }, v(2, []))).toThrow(InvalidDeviceListError)
  })

  it('accepts exactly: same account, greater version, revocations kept (property)', () => {
    const listArb = fc.record({
      key: fc.constantFrom(account, other),
      version: fc.integer({ min: 1, max: 5 }),
      revoked: fc.uniqueArray(fc.constantFrom(...peerIdPool), { maxLength: 4 })
    })
    // Signatures play no part in the check, so unsigned lists keep this fast.
    const make = (l: { key: typeof account; version: number; revoked: string[] }): SignedDeviceList => ({
      accountPublicKey: l.key.publicKey,
      version: l.version,
      devices: [],
      revoked: l.revoked,
      issuedAt: 0,
      signature: new Uint8Array(64)
    })
    fc.assert(
      fc.property(listArb, listArb, (a, b) => {
        const ok = a.key === b.key && b.version > a.version && a.revoked.every(p => b.revoked.includes(p))
        let threw: unknown = null
        try {
          checkDeviceListSuccessor(make(a), make(b))
        } catch (e) {
          threw = e
        }
        if (ok) expect(threw).toBeNull()
        else expect(threw).toBeInstanceOf(StaleDeviceListError)
      }),
      { numRuns: 500 }
    )
  })
})

describe('deviceStatus', () => {
  it('listed, revoked (wins over listed), unlisted', () => {
    const list = signDeviceList(account, body({ revoked: ['p2', 'p9'] }))
    expect(deviceStatus(list, 'p1')).toBe('listed')
    expect(deviceStatus(list, 'p2')).toBe('revoked')
    expect(deviceStatus(list, 'p9')).toBe('revoked')
    expect(deviceStatus(list, 'p3')).toBe('unlisted')
    expect(deviceStatus(list, '')).toBe('unlisted')
  })

  it('agrees with the lists (property)', () => {
    fc.assert(
      fc.property(smallDeviceListArb, fc.constantFrom(...peerIdPool, 'zz'), (list, peerId) => {
        const expected = list.revoked.includes(peerId) ? 'revoked' : list.devices.some(d => d.peerId === peerId) ? 'listed' : 'unlisted'
        expect(deviceStatus(list, peerId)).toBe(expected)
      }),
      { numRuns: 300 }
    )
  })
})
