/** fast-check generators for well-formed chain links (fields and bounds; signatures are random bytes). */
import fc from 'fast-check'
import {
  type ChainDevice,
  type ChainLink,
  type LinkExtension,
  MAX_CHAIN_DEVICES,
  MAX_CHAIN_REVOKED,
  MAX_DEVICE_NAME_BYTES,
  MAX_EXTENSION_BYTES,
  MAX_LINK_EXTENSIONS,
  MAX_PLATFORM_BYTES
} from '../src/index.js'
import { boundedBytes, boundedString, patterned } from './arbitraries.js'
import { hex, sortDevices, sortKeys } from './chain-fixtures.js'

const key32 = fc.uint8Array({ minLength: 32, maxLength: 32 })

const deviceArb: fc.Arbitrary<ChainDevice> = fc.record({
  signingKey: key32,
  agreementKey: key32,
  name: boundedString(MAX_DEVICE_NAME_BYTES),
  platform: boundedString(MAX_PLATFORM_BYTES),
  linkedAt: fc.maxSafeNat()
})

/** `count` distinct 32-byte keys, cheaply (the index in the first bytes). */
export const distinctKeys = (count: number, seed: number): Uint8Array[] =>
  Array.from({ length: count }, (_, i) => {
    const key = patterned(32, seed)
    key[0] = i >> 8
    key[1] = i & 0xff
    return key
  })

/** Every bound at once: the most devices with the longest names and platforms, the most revocations. */
export const fullDevices = (seed: number): ChainDevice[] =>
  distinctKeys(MAX_CHAIN_DEVICES, seed).map((signingKey, i) => ({
    signingKey,
    agreementKey: patterned(32, seed + i),
    name: 'n'.repeat(MAX_DEVICE_NAME_BYTES),
    platform: 'p'.repeat(MAX_PLATFORM_BYTES),
    linkedAt: Number.MAX_SAFE_INTEGER - i
  }))
/** Revoked keys of `seed` never collide with `fullDevices(seed)`: every pattern byte is one higher. */
export const fullRevoked = (seed: number): Uint8Array[] => distinctKeys(MAX_CHAIN_REVOKED, seed + 1)

const listsArb: fc.Arbitrary<{ devices: ChainDevice[]; revoked: Uint8Array[] }> = fc.oneof(
  {
    weight: 10,
    arbitrary: fc
      .tuple(fc.uniqueArray(deviceArb, { selector: d => hex(d.signingKey), maxLength: 5 }), fc.uniqueArray(key32, { selector: hex, maxLength: 5 }))
      .map(([devices, revoked]) => {
        const listed = new Set(devices.map(d => hex(d.signingKey)))
        return { devices: sortDevices(devices), revoked: sortKeys(revoked.filter(k => !listed.has(hex(k)))) }
      })
  },
  { weight: 1, arbitrary: fc.integer().map(seed => ({ devices: fullDevices(seed), revoked: fullRevoked(seed) })) }
)

const extensionsArb: fc.Arbitrary<LinkExtension[]> = fc
  .uniqueArray(fc.record({ type: fc.integer({ min: 1, max: 2 ** 40 }), data: boundedBytes(MAX_EXTENSION_BYTES) }), {
    selector: x => x.type,
    maxLength: MAX_LINK_EXTENSIONS
  })
  .map(xs => xs.sort((a, b) => a.type - b.type))

/** A well-formed link whose extensions may push it past MAX_LINK_BYTES: the codec must then refuse it. */
export const linkArb: fc.Arbitrary<ChainLink> = fc
  .record({
    version: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    prev: key32,
    issuedAt: fc.maxSafeNat(),
    recoveryKey: key32,
    lists: listsArb,
    extensions: fc.oneof({ weight: 4, arbitrary: fc.constant<LinkExtension[]>([]) }, { weight: 1, arbitrary: extensionsArb }),
    signer: fc.record({ kind: fc.constantFrom('device' as const, 'recovery' as const), publicKey: key32 }),
    signature: fc.uint8Array({ minLength: 64, maxLength: 64 })
  })
  .map(l => ({
    version: l.version,
    prev: l.version === 1 ? null : l.prev,
    issuedAt: l.issuedAt,
    recoveryKey: l.recoveryKey,
    devices: l.lists.devices,
    revoked: l.lists.revoked,
    extensions: l.extensions,
    signer: l.signer,
    signature: l.signature
  }))

/** Small links only, for mutation tests. */
export const smallLinkArb: fc.Arbitrary<ChainLink> = fc
  .record({
    version: fc.integer({ min: 1, max: 300 }),
    prev: key32,
    issuedAt: fc.nat(),
    recoveryKey: key32,
    devices: fc.uniqueArray(fc.record({ signingKey: key32, agreementKey: key32, name: fc.string({ maxLength: 4 }), platform: fc.string({ maxLength: 3 }), linkedAt: fc.nat() }), {
      selector: d => hex(d.signingKey),
      maxLength: 2
    }),
    revoked: fc.uniqueArray(key32, { selector: hex, maxLength: 2 }),
    extensions: fc.uniqueArray(fc.record({ type: fc.integer({ min: 1, max: 300 }), data: fc.uint8Array({ maxLength: 8 }) }), { selector: x => x.type, maxLength: 2 }),
    signer: fc.record({ kind: fc.constantFrom('device' as const, 'recovery' as const), publicKey: key32 }),
    signature: fc.uint8Array({ minLength: 64, maxLength: 64 })
  })
  .map(l => {
    const listed = new Set(l.devices.map(d => hex(d.signingKey)))
    return {
      version: l.version,
      prev: l.version === 1 ? null : l.prev,
      issuedAt: l.issuedAt,
      recoveryKey: l.recoveryKey,
      devices: sortDevices(l.devices),
      revoked: sortKeys(l.revoked.filter(k => !listed.has(hex(k)))),
      extensions: l.extensions.sort((a, b) => a.type - b.type),
      signer: l.signer,
      signature: l.signature
    }
  })
