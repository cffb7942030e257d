import {
  accountIdFromGenesis,
  agreementKeyFromSecret,
  type ChainLink,
  createGenesis,
  decodeKeyMessage,
  encodeKeyMessage,
  nobleSignatures,
  proposeLink,
  signingKeyFromSeed,
  verifyChain
} from '@tandem/protocol'
import { describe, expect, it } from 'vitest'
import { KeyRing } from '../src/keys/key-ring.js'

/** Deterministic bytes: a counter per call (a test's keys and nonces, replayable). */
function counterRandom(seed: number): (n: number) => Uint8Array {
  let i = seed
  return n => {
    const out = new Uint8Array(n)
    for (let k = 0; k < n; k++) out[k] = (i * 131 + k * 17) & 0xff
    i++
    return out
  }
}

function device(seed: number, name: string) {
  const signing = signingKeyFromSeed(new Uint8Array(32).fill(seed))
  const agreement = agreementKeyFromSecret(new Uint8Array(32).fill(seed + 100))
  return { signing, agreement, chain: { signingKey: signing.publicKey, agreementKey: agreement.publicKey, name, platform: 'node', linkedAt: seed } }
}

/** A chain whose second link adds `laptop` without sealing it any key: a link made without it in view. */
function chainWithoutBox() {
  const phone = device(1, 'phone')
  const laptop = device(2, 'laptop')
  const random = counterRandom(7)
  const recovery = signingKeyFromSeed(new Uint8Array(32).fill(9))
  const genesis = createGenesis({
    device: phone.chain,
    signer: phone.signing,
    recoveryKey: recovery.publicKey,
    issuedAt: 1,
    extensions: new KeyRing([], random).genesisExtensions(phone.agreement.publicKey, null)
  })
  const accountId = accountIdFromGenesis(genesis)
  const add = proposeLink(verifyChain([genesis]), [{ type: 'add-device', device: laptop.chain }], { kind: 'device', key: phone.signing }, { issuedAt: 2, extensions: [] })
  const links: ChainLink[] = [genesis, add]
  return { phone, laptop, accountId, links, random }
}

describe('a device that lacks a key generation', () => {
  it('holds none of it from the chain, and gets it from a device that holds it, sealed to its listed key', () => {
    const { phone, laptop, links, random } = chainWithoutBox()
    const phoneRing = new KeyRing([phone.agreement], random)
    const laptopRing = new KeyRing([laptop.agreement], random)
    phoneRing.update(links, () => true)
    laptopRing.update(links, () => true)
    expect(phoneRing.missing()).toEqual([])
    expect(laptopRing.missing()).toEqual([1])
    expect(laptopRing.writeEpoch()).toBeNull()

    let changed = 0
    laptopRing.onChange(() => changed++)
    const entries = phoneRing.share([1], laptop.agreement.publicKey)
    expect(laptopRing.adopt(entries)).toBe(true)
    expect(changed).toBe(1)
    expect(laptopRing.missing()).toEqual([])
    expect(laptopRing.docKey(1, 'chat:x')).toEqual(phoneRing.docKey(1, 'chat:x'))
  })

  it('cannot use a share sealed to another device, or one for another generation’s key id', () => {
    const { phone, laptop, links, random } = chainWithoutBox()
    const phoneRing = new KeyRing([phone.agreement], random)
    const laptopRing = new KeyRing([laptop.agreement], random)
    phoneRing.update(links, () => true)
    laptopRing.update(links, () => true)
    const stranger = agreementKeyFromSecret(new Uint8Array(32).fill(55))
    expect(laptopRing.adopt(phoneRing.share([1], stranger.publicKey))).toBe(false)
    const [entry] = phoneRing.share([1], laptop.agreement.publicKey)
    expect(laptopRing.adopt([{ ...entry!, keyId: new Uint8Array(16) }])).toBe(false)
    expect(laptopRing.missing()).toEqual([1])
  })

  it('asks with a signed request that verifies only as the requester’s and only for its account', async () => {
    const { laptop, accountId } = chainWithoutBox()
    const bytes = await encodeKeyMessage({ type: 'key-request', requester: laptop.signing.publicKey, generations: [1, 2] }, accountId, laptop.signing.secretKey, nobleSignatures)
    const decoded = await decodeKeyMessage(bytes, accountId, nobleSignatures)
    expect(decoded).toEqual({ type: 'key-request', requester: laptop.signing.publicKey, generations: [1, 2] })
    await expect(decodeKeyMessage(bytes, `${accountId.slice(0, -1)}x`, nobleSignatures)).rejects.toMatchObject({ code: 'ERR_MALFORMED_FRAME' })
    const flipped = bytes.slice()
    flipped[5] = flipped[5]! ^ 1
    await expect(decodeKeyMessage(flipped, accountId, nobleSignatures)).rejects.toMatchObject({ code: 'ERR_MALFORMED_FRAME' })
    for (let cut = 0; cut < bytes.length; cut++)
      await expect(decodeKeyMessage(bytes.subarray(0, cut), accountId, nobleSignatures)).rejects.toMatchObject({ code: 'ERR_MALFORMED_FRAME' })
  })
})
