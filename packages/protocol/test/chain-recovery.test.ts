import { describe, expect, it } from 'vitest'
import {
  acceptLink,
  agreementKeyFromSecret,
  createGenesis,
  encodeChain,
  generateRecoveryPhrase,
  InvalidCredentialsError,
  listChainDevices,
  normalizeRecoveryPhrase,
  proposeLink,
  RevokedSignerError,
  recoveryKeyFromPhrase,
  revokedPeerIds,
  verifyGenesis
} from '../src/index.js'
import { dev, hex, nextBody, signAny } from './chain-fixtures.js'

// The BIP-39 reference vector for sixteen 0x7f bytes.
const PHRASE = 'legal winner thank year wave sausage worth useful legal winner thank yellow'

describe('recovery phrase', () => {
  it('comes from the injected randomness, as BIP-39 English words', () => {
    expect(generateRecoveryPhrase(n => new Uint8Array(n).fill(0x7f))).toBe(PHRASE)
    expect(generateRecoveryPhrase(n => new Uint8Array(n).fill(1), 24).split(' ')).toHaveLength(24)
    expect(() => generateRecoveryPhrase(n => new Uint8Array(n), 13)).toThrow(RangeError)
  })

  it('is read whatever the case and spacing', () => {
    expect(normalizeRecoveryPhrase(`  ${PHRASE.toUpperCase().replaceAll(' ', ' \n\t ')} `)).toBe(PHRASE)
  })

  it('a typo is reported as a typo, with its place; other mistakes say what they are', () => {
    const words = PHRASE.split(' ')
    const typo = [...words]
    typo[4] = 'wavee'
    expect(() => normalizeRecoveryPhrase(typo.join(' '))).toThrow(/word 5, "wavee", is not in the word list/)
    const swapped = [...words]
    ;[swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!]
    expect(() => normalizeRecoveryPhrase(swapped.join(' '))).toThrow(/do not check out/)
    expect(() => normalizeRecoveryPhrase(words.slice(0, 11).join(' '))).toThrow(/11 words, expected 12/)
    for (const bad of ['', 'x'.repeat(5000), 42 as unknown as string]) expect(() => normalizeRecoveryPhrase(bad)).toThrow(InvalidCredentialsError)
  })
})

describe('recovery key', () => {
  it('is derived from the phrase alone (a fixed vector), signs the link that brings a fresh device in, and only its public half is in the chain', async () => {
    const key = await recoveryKeyFromPhrase(PHRASE)
    // Fixed so a change to the derivation (scrypt parameters, labels) cannot pass unnoticed: every account's phrase would stop working.
    expect(hex(key.publicKey)).toBe(RECOVERY_VECTOR)
    // the X25519 key generations are sealed to: the same root, info "tandem/recovery/x25519"
    expect(hex(key.agreement.publicKey)).toBe(RECOVERY_AGREEMENT_VECTOR)
    expect(hex(agreementKeyFromSecret(key.agreement.secretKey).publicKey)).toBe(RECOVERY_AGREEMENT_VECTOR)

    // Every device is lost: a fresh device with the phrase lists itself and revokes the rest.
    const genesis = createGenesis({ device: dev(1).device, signer: dev(1).key, recoveryKey: key.publicKey, issuedAt: 1 })
    let state = verifyGenesis(genesis)
    state = acceptLink(state, proposeLink(state, [{ type: 'add-device', device: dev(2).device }], dev(1).signer, { issuedAt: 2 })).state
    const restored = proposeLink(
      state,
      [
        { type: 'revoke-device', peerId: dev(1).peerId },
        { type: 'revoke-device', peerId: dev(2).peerId },
        { type: 'add-device', device: dev(3).device }
      ],
      { kind: 'recovery', key },
      { issuedAt: 3 }
    )
    const after = acceptLink(state, restored).state
    expect(listChainDevices(after).map(d => d.peerId)).toEqual([dev(3).peerId])
    expect(revokedPeerIds(after)).toHaveLength(2)
    // a lost device's key, found by whoever has the device, is useless now
    const byLost = signAny(
      nextBody(after, dev(1).signer, { devices: [...after.head.devices, dev(4).device].sort((a, b) => Buffer.compare(a.signingKey, b.signingKey)) }),
      dev(1).key
    )
    expect(() => acceptLink(after, byLost)).toThrow(RevokedSignerError)

    const published = Buffer.from(encodeChain([genesis, state.head, restored]))
    expect(published.includes(Buffer.from(key.publicKey))).toBe(true)
    expect(published.includes(Buffer.from(key.secretKey))).toBe(false)
    expect(published.includes(Buffer.from(key.agreement.secretKey))).toBe(false)
  })

  it('a phrase that does not check out derives nothing', async () => {
    await expect(recoveryKeyFromPhrase(PHRASE.replace('yellow', 'yell'))).rejects.toThrow(InvalidCredentialsError)
  })
})

// Checked once outside this code: Python's hashlib.scrypt, HMAC-SHA256 HKDF and the cryptography package's Ed25519 give the same key.
const RECOVERY_VECTOR = '947a231f659929ddec08584c1d48ed84c25a2e13c7cef3de2bdff8f107bd15f4'
// Checked once with node:crypto (OpenSSL's scrypt, HKDF and X25519), which also gives RECOVERY_VECTOR above.
const RECOVERY_AGREEMENT_VECTOR = 'aee6ff563708fdd6520f5d057baacdbf1698125f23da6cff5328687118ad8078'
