/** fast-check generators and fixed values for the linking tests: codes, transcripts, frames. */
import fc from 'fast-check'
import {
  LINK_NONCE_BYTES,
  LINK_SECRET_BYTES,
  type LinkCode,
  type LinkFrame,
  type LinkTranscript,
  MAX_APPROVAL_CHAIN_BYTES,
  MAX_CHAT_HINTS,
  MAX_DEVICE_NAME_BYTES,
  MAX_HINT_CHAT_ID_BYTES,
  MAX_ERROR_CODE_BYTES,
  MAX_ERROR_MESSAGE_BYTES,
  MAX_LINK_ADDRESSES,
  MAX_PLATFORM_BYTES,
  MAX_RETRY_AFTER_MS,
  MAX_SEGMENT_INDEX,
  peerIdFromSigningKey
} from '../src/index.js'
import { boundedString } from './arbitraries.js'

const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })

export const peerIdArb: fc.Arbitrary<string> = bytes(32).map(peerIdFromSigningKey)

export const RELAY_PEER = '12D3KooWGRUVh9FxSEUyUM6K2GRm5zx5n5HyyVpcGnLvSvRDaoSv'
export const CIRCUIT = `/dns4/relay.tandem.example.org/tcp/443/tls/ws/p2p/${RELAY_PEER}/p2p-circuit`

const octet = fc.integer({ min: 0, max: 255 })
const port = fc.integer({ min: 1, max: 65535 })
const hostname = fc.stringMatching(/^[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,20}){0,2}$/)

/** Canonical multiaddr strings of the kinds a device would put in a code. */
export const addressArb: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(octet, octet, octet, octet, port).map(([a, b, c, d, p]) => `/ip4/${a}.${b}.${c}.${d}/tcp/${p}`),
  fc.tuple(fc.integer({ min: 1, max: 0xffff }), port).map(([h, p]) => `/ip6/fe80::${h.toString(16)}/tcp/${p}`),
  fc.tuple(octet, port).map(([a, p]) => `/ip4/10.0.0.${a}/tcp/${p}/ws`),
  fc.tuple(hostname, port).map(([h, p]) => `/dns4/${h}/tcp/${p}/tls/ws/p2p/${RELAY_PEER}/p2p-circuit`)
)

/** Whole seconds anywhere in the encodable range. */
export const expiresAtArb = fc.integer({ min: 0, max: Math.floor(Number.MAX_SAFE_INTEGER / 1000) }).map(s => s * 1000)

export const linkCodeArb: fc.Arbitrary<LinkCode> = fc.record({
  peerId: peerIdArb,
  addresses: fc.array(addressArb, { maxLength: MAX_LINK_ADDRESSES }),
  secret: bytes(LINK_SECRET_BYTES),
  expiresAt: expiresAtArb
})

/** An address of exactly MAX_LINK_ADDRESS_BYTES: /dns4/ (1 byte), its length (1 byte) and a 126-character name. */
export const LONGEST_ADDRESS = `/dns4/${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(4)}`

/** A code at every bound: the latest expiry, MAX_LINK_ADDRESSES addresses of MAX_LINK_ADDRESS_BYTES. */
export const largestCode = (): LinkCode => ({
  peerId: peerIdFromSigningKey(new Uint8Array(32).fill(0xee)),
  addresses: Array.from({ length: MAX_LINK_ADDRESSES }, (_, i) => LONGEST_ADDRESS.replace('cccc', `ccc${i}`)),
  secret: new Uint8Array(LINK_SECRET_BYTES).fill(0xab),
  expiresAt: Math.floor(Number.MAX_SAFE_INTEGER / 1000) * 1000
})

export const NOW = 1_700_000_000_000

/** A typical code: one circuit and two LAN addresses, five minutes from NOW. */
export const typicalCode = (over: Partial<LinkCode> = {}): LinkCode => ({
  peerId: peerIdFromSigningKey(new Uint8Array(32).fill(0x11)),
  addresses: [CIRCUIT, '/ip4/192.168.1.23/tcp/40123', '/ip6/fe80::1/tcp/4001'],
  secret: new Uint8Array(LINK_SECRET_BYTES).fill(0x5a),
  expiresAt: NOW + 5 * 60_000,
  ...over
})

export const transcriptArb: fc.Arbitrary<LinkTranscript> = fc.record({
  dialerPeerId: peerIdArb,
  listenerPeerId: peerIdArb,
  dialerNonce: bytes(LINK_NONCE_BYTES),
  listenerNonce: bytes(LINK_NONCE_BYTES)
})

const paramsArb = fc.integer({ min: 1, max: 4 }).chain(p => fc.record({ t: fc.integer({ min: 1, max: 8 }), m: fc.integer({ min: 8 * p, max: 256 * 1024 }), p: fc.constant(p) }))

export const linkFrameArb = (blob: (max: number) => fc.Arbitrary<Uint8Array>): fc.Arbitrary<LinkFrame> =>
  fc.oneof(
    fc.record({ type: fc.constant('hello' as const), version: fc.maxSafeNat(), nonce: bytes(32) }),
    fc.record({ type: fc.constant('proof' as const), proof: bytes(32) }),
    fc.record({
      type: fc.constant('device' as const),
      agreementKey: bytes(32),
      name: boundedString(MAX_DEVICE_NAME_BYTES),
      platform: boundedString(MAX_PLATFORM_BYTES)
    }),
    fc.record({ type: fc.constantFrom('confirmed' as const, 'done' as const) }),
    fc.record({ type: fc.constant('passphrase-challenge' as const), params: paramsArb, salt: bytes(16) }),
    fc.record({ type: fc.constant('passphrase-proof' as const), proof: bytes(32) }),
    fc.record({ type: fc.constant('passphrase-retry' as const), retryAfterMs: fc.integer({ min: 0, max: MAX_RETRY_AFTER_MS }) }),
    fc.record({
      type: fc.constant('approval' as const),
      accountId: boundedString(64),
      chain: blob(MAX_APPROVAL_CHAIN_BYTES),
      keyMaterial: blob(64 * 1024),
      hints: fc.array(fc.record({ chatId: boundedString(MAX_HINT_CHAT_ID_BYTES), segment: fc.integer({ min: 0, max: MAX_SEGMENT_INDEX }) }), { maxLength: MAX_CHAT_HINTS })
    }),
    fc.record({ type: fc.constant('error' as const), code: boundedString(MAX_ERROR_CODE_BYTES), message: boundedString(MAX_ERROR_MESSAGE_BYTES) })
  )
