import fc from 'fast-check'
import * as decoding from 'lib0/decoding'
import { describe, expect, it } from 'vitest'
import {
  type ChainLink,
  decodeChain,
  decodeChainLink,
  encodeChain,
  encodeChainLink,
  InvalidDeviceListError,
  MAX_CHAIN_DEVICES,
  MAX_CHAIN_LINKS,
  MAX_CHAIN_REVOKED,
  MAX_EXTENSION_BYTES,
  MAX_LINK_BYTES,
  MAX_LINK_EXTENSIONS,
  MAX_PLATFORM_BYTES,
  readChainLink,
  TandemError,
  UnsupportedVersionError
} from '../src/index.js'
import { distinctKeys, fullDevices, fullRevoked, linkArb, smallLinkArb } from './chain-arbitraries.js'
import { equalBytes, expectSameValue, mutate, mutationArb, varUint } from './helpers.js'

const base = (over: Partial<ChainLink> = {}): ChainLink => ({
  version: 2,
  prev: new Uint8Array(32).fill(9),
  issuedAt: 10,
  recoveryKey: new Uint8Array(32).fill(8),
  devices: [{ signingKey: new Uint8Array(32).fill(1), agreementKey: new Uint8Array(32).fill(2), name: 'phone', platform: 'node', linkedAt: 3 }],
  revoked: [new Uint8Array(32).fill(4)],
  extensions: [],
  signer: { kind: 'device', publicKey: new Uint8Array(32).fill(1) },
  signature: new Uint8Array(64).fill(7),
  ...over
})

/** The largest link the bounds allow, extensions filling what is left up to exactly MAX_LINK_BYTES. */
function largestLink(): ChainLink {
  const core = base({ version: Number.MAX_SAFE_INTEGER, issuedAt: Number.MAX_SAFE_INTEGER, devices: fullDevices(1), revoked: fullRevoked(1) })
  const room = MAX_LINK_BYTES - encodeChainLink(core).length // the extension count byte is already in there
  const first = MAX_EXTENSION_BYTES
  const rest = room - (1 + varUint(first).length + first)
  const second = rest - 1 - varUint(rest).length // type byte, length prefix (same width either way here)
  expect(varUint(second).length).toBe(varUint(rest).length)
  return {
    ...core,
    extensions: [
      { type: 1, data: new Uint8Array(first) },
      { type: 2, data: new Uint8Array(second) }
    ]
  }
}

const rejects = (f: () => unknown, pattern: RegExp, type: new (...a: never[]) => Error = InvalidDeviceListError) => {
  expect(f).toThrow(type)
  expect(f).toThrow(pattern)
}

describe('chain link encoding (property)', () => {
  it('decode(encode(link)) equals link, every bound included; over MAX_LINK_BYTES is refused', () => {
    fc.assert(
      fc.property(linkArb, link => {
        let bytes: Uint8Array
        try {
          bytes = encodeChainLink(link)
        } catch (e) {
          // only extensions can push a well-formed link past the whole-link bound
          if (!(e instanceof InvalidDeviceListError) || !/over the bound of 131072/.test(e.message)) throw e
          expect(link.extensions.reduce((n, x) => n + x.data.length, 0)).toBeGreaterThan(MAX_LINK_BYTES - 60_000)
          return
        }
        expect(bytes.length).toBeLessThanOrEqual(MAX_LINK_BYTES)
        expectSameValue(decodeChainLink(bytes), link)
      }),
      { numRuns: 150 }
    )
  })

  it('arbitrary, mutated or truncated bytes: a link that re-encodes to the same bytes, or a TandemError — never anything else', () => {
    const arb = fc.oneof(
      fc.uint8Array({ maxLength: 400 }),
      fc
        .tuple(smallLinkArb, fc.array(mutationArb([MAX_CHAIN_DEVICES, MAX_CHAIN_REVOKED, MAX_LINK_EXTENSIONS, MAX_EXTENSION_BYTES, 2 ** 30]), { minLength: 1, maxLength: 3 }))
        .map(([link, ms]) => ms.reduce(mutate, encodeChainLink(link)))
    )
    fc.assert(
      fc.property(arb, bytes => {
        const decoder = decoding.createDecoder(bytes)
        try {
          readChainLink(decoder)
        } catch (e) {
          if (!(e instanceof TandemError)) throw e
        }
        if (decoder.pos > bytes.length) throw new Error('read past the end')
        let link: ChainLink
        try {
          link = decodeChainLink(bytes)
        } catch (e) {
          if (!(e instanceof TandemError)) throw e
          return
        }
        if (!equalBytes(encodeChainLink(link), bytes)) throw new Error('accepted bytes are not canonical')
      }),
      { numRuns: 2000 }
    )
  })

  it('the largest link is exactly MAX_LINK_BYTES and round-trips; one byte more is refused before parsing', () => {
    const link = largestLink()
    const bytes = encodeChainLink(link)
    expect(bytes.length).toBe(MAX_LINK_BYTES)
    expectSameValue(decodeChainLink(bytes), link)
    const over = { ...link, extensions: [link.extensions[0]!, { type: 2, data: new Uint8Array(link.extensions[1]!.data.length + 1) }] }
    rejects(() => encodeChainLink(over), /over the bound of 131072/)
    const padded = new Uint8Array(MAX_LINK_BYTES + 1)
    padded.set(bytes)
    rejects(() => decodeChainLink(padded), /131073 bytes, over the bound/)
    // A link without extensions (the chain's own content) stays under half the bound.
    expect(encodeChainLink({ ...link, extensions: [] }).length).toBeLessThan(MAX_LINK_BYTES / 2)
  })
})

describe('chain link encoding: every malformed field is refused when writing and when reading', () => {
  const keys = distinctKeys(3, 50)
  const d = (k: Uint8Array) => ({ ...base().devices[0]!, signingKey: k })
  const cases: [string, Partial<ChainLink>, RegExp][] = [
    ['version 0', { version: 0 }, /version must be at least 1/],
    ['a fractional version', { version: 1.5 }, /not a non-negative safe integer/],
    ['a genesis with a prev', { version: 1 }, /genesis \(version 1\) has no prev/],
    ['a later link without a prev', { prev: null }, /prev: expected 32 bytes/],
    ['a short prev', { prev: new Uint8Array(31) }, /prev: expected 32 bytes/],
    ['a short recovery key', { recoveryKey: new Uint8Array(33) }, /recoveryKey: expected 32 bytes/],
    ['devices out of order', { devices: [d(keys[1]!), d(keys[0]!)] }, /devices: keys must be unique and in ascending order/],
    ['a device twice', { devices: [d(keys[0]!), d(keys[0]!)] }, /devices: keys must be unique/],
    ['revoked out of order', { revoked: [keys[2]!, keys[1]!] }, /revoked: keys must be unique and in ascending order/],
    ['a key both listed and revoked', { revoked: [base().devices[0]!.signingKey] }, /both listed and revoked/],
    ['too many devices', { devices: distinctKeys(MAX_CHAIN_DEVICES + 1, 1).map(d) }, /65 entries, over the bound of 64/],
    ['too many revocations', { revoked: distinctKeys(MAX_CHAIN_REVOKED + 1, 2) }, /1025 entries, over the bound of 1024/],
    ['a name over its bound', { devices: [{ ...d(keys[0]!), name: 'n'.repeat(257) }] }, /device name: 257 bytes, over the bound of 256/],
    ['a platform over its bound', { devices: [{ ...d(keys[0]!), platform: 'p'.repeat(MAX_PLATFORM_BYTES + 1) }] }, /device platform: 33 bytes/],
    ['a short agreement key', { devices: [{ ...d(keys[0]!), agreementKey: new Uint8Array(31) }] }, /agreementKey: expected 32 bytes/],
    ['extension type 0', { extensions: [{ type: 0, data: new Uint8Array(1) }] }, /types must be at least 1/],
    [
      'extensions out of order',
      {
        extensions: [
          { type: 5, data: new Uint8Array(1) },
          { type: 4, data: new Uint8Array(1) }
        ]
      },
      /types must be at least 1, unique and ascending/
    ],
    ['too many extensions', { extensions: Array.from({ length: 9 }, (_, i) => ({ type: i + 1, data: new Uint8Array(0) })) }, /9 entries, over the bound of 8/],
    ['an extension over its bound', { extensions: [{ type: 1, data: new Uint8Array(MAX_EXTENSION_BYTES + 1) }] }, /extension data: 65537 bytes/]
  ]

  it.each(cases)('%s', (_name, over, pattern) => {
    rejects(() => encodeChainLink(base(over)), pattern)
  })

  it('the same problems in bytes the encoder would never write', () => {
    const bytes = encodeChainLink(base())
    // layout: format(1) version(1) prev(32) issuedAt(1) recoveryKey(32) count(1) device…
    const v0 = bytes.slice()
    v0[1] = 0
    rejects(() => decodeChainLink(v0), /version must be at least 1/)
    const future = bytes.slice()
    future[0] = 2
    rejects(() => decodeChainLink(future), /format version 2/, UnsupportedVersionError)
    const listedAndRevoked = encodeChainLink(base({ revoked: [new Uint8Array(32).fill(1).map((b, i) => (i === 31 ? 2 : b))] }))
    listedAndRevoked[listedAndRevoked.length - 64 - 33 - 1 - 1] = 1 // last byte of the revoked key → the listed key
    rejects(() => decodeChainLink(listedAndRevoked), /both listed and revoked/)
    const kind = bytes.slice()
    kind[kind.length - 64 - 33] = 3
    rejects(() => decodeChainLink(kind), /signer kind 3/)
    kind[kind.length - 64 - 33] = 0
    rejects(() => decodeChainLink(kind), /signer kind 0/)
    rejects(() => decodeChainLink(new Uint8Array([...bytes, 0])), /1 trailing bytes/)
    rejects(() => decodeChainLink(bytes.subarray(0, bytes.length - 1)), /signature: truncated/)
    const hugeCount = new Uint8Array([...bytes.subarray(0, 67), ...varUint(2 ** 40), ...bytes.subarray(68)])
    rejects(() => decodeChainLink(hugeCount), /over the bound of 64/)
  })

  it('order and uniqueness are checked on the wire too: one spelling per list, so one hash per link', () => {
    const [k1, k2, k3] = distinctKeys(3, 60)
    const two = (over: Partial<ChainLink>) => encodeChainLink(base({ revoked: [], ...over }))
    // Encode sorted, then swap the two 32-byte entries (or copy the first over the second) in the bytes.
    const devices = [k1!, k2!].map(k => ({ ...base().devices[0]!, signingKey: k, name: 'x' }))
    const entry = 32 + 32 + 2 + 5 + 1 // signingKey agreementKey name(1+1) platform(1+4) linkedAt(1)
    const dStart = 1 + 1 + 32 + 1 + 32 + 1
    const withDevices = two({ devices })
    const swapped = withDevices.slice()
    swapped.set(withDevices.subarray(dStart + entry, dStart + 2 * entry), dStart)
    swapped.set(withDevices.subarray(dStart, dStart + entry), dStart + entry)
    rejects(() => decodeChainLink(swapped), /devices: keys must be unique and in ascending order/)
    const twice = withDevices.slice()
    twice.set(withDevices.subarray(dStart, dStart + entry), dStart + entry)
    rejects(() => decodeChainLink(twice), /devices: keys must be unique/)

    const withRevoked = two({ devices: [], revoked: [k2!, k3!] })
    const rStart = 1 + 1 + 32 + 1 + 32 + 1 + 1
    const rSwapped = withRevoked.slice()
    rSwapped.set(withRevoked.subarray(rStart + 32, rStart + 64), rStart)
    rSwapped.set(withRevoked.subarray(rStart, rStart + 32), rStart + 32)
    rejects(() => decodeChainLink(rSwapped), /revoked: keys must be unique and in ascending order/)

    const withExtensions = two({
      devices: [],
      extensions: [
        { type: 1, data: new Uint8Array([9]) },
        { type: 2, data: new Uint8Array([9]) }
      ]
    })
    const xStart = 1 + 1 + 32 + 1 + 32 + 1 + 1 + 1 // …extension count, then type 1
    const xSwapped = withExtensions.slice()
    xSwapped[xStart] = 2
    rejects(() => decodeChainLink(xSwapped), /types must be at least 1, unique and ascending/)
  })

  it('the streaming reader holds the whole-link bound itself (inside a frame nobody checked it first)', () => {
    const link = largestLink()
    const n = link.extensions[1]!.data.length - 50
    const shorter = { ...link, extensions: [link.extensions[0]!, { type: 2, data: new Uint8Array(n) }] }
    const bytes = encodeChainLink(shorter) // 50 bytes under the bound
    const at = bytes.length - 64 - 33 - n - varUint(n).length
    expect(Buffer.from(bytes.subarray(at, at + varUint(n).length))).toEqual(Buffer.from(varUint(n)))
    const grown = new Uint8Array([...bytes.subarray(0, at), ...varUint(n + 51), ...new Uint8Array(51), ...bytes.subarray(at + varUint(n).length)])
    rejects(() => readChainLink(decoding.createDecoder(grown)), /131073 bytes, over the bound of 131072/)
  })

  it('objects that are not links are typed errors, never TypeErrors', () => {
    const odd: unknown[] = [
      null,
      7,
      'x',
      {},
      base({ devices: null as never }),
      base({ devices: [null as never] }),
      base({ signer: null as never }),
      base({ signer: { kind: 'other', publicKey: new Uint8Array(32) } as never })
    ]
    for (const link of odd) expect(() => encodeChainLink(link as ChainLink)).toThrow(InvalidDeviceListError)
    expect(() => decodeChainLink('bytes' as never)).toThrow(InvalidDeviceListError)
  })
})

describe('chain encoding', () => {
  it('round-trips a chain; refuses more than MAX_CHAIN_LINKS and garbage', () => {
    const links = [base({ version: 1, prev: null }), base({ version: 2 }), base({ version: 3, revoked: [] })]
    expectSameValue(decodeChain(encodeChain(links)), links)
    expectSameValue(decodeChain(encodeChain([])), [])
    rejects(() => encodeChain(Array.from({ length: MAX_CHAIN_LINKS + 1 }, () => links[0]!)), /4097 entries, over the bound of 4096/)
    rejects(() => decodeChain(new Uint8Array([...varUint(MAX_CHAIN_LINKS + 1)])), /over the bound of 4096/)
    rejects(() => decodeChain(new Uint8Array([...encodeChain(links), 1])), /trailing bytes/)
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), bytes => {
        try {
          decodeChain(bytes)
        } catch (e) {
          if (!(e instanceof TandemError)) throw e
        }
      }),
      { numRuns: 500 }
    )
  })
})
