/**
 * A shared chat's key for one epoch, as its signed membership record carries it (issue 16,
 * DESIGN §5 "Accounts talking to accounts"): K_e is 32 random bytes, sealed to each member
 * account's X25519 key of that account's current key generation (accountAgreementKey(K_g),
 * named on the link that started generation g), with every older epoch's key wrapped under
 * K_e, so the newest record alone opens the chat's whole history for its members (a member
 * added later reads the history too, as in a Telegram group). Removing a member starts epoch
 * e+1 sealed only to the accounts that stay: the removed account holds no box of it.
 *
 * The relay stores these boxes with the record and never opens them: they are ciphertext to
 * it, like the key boxes on device-chain links. Per-doc keys of the chat (its segments too)
 * are HKDF(K_e, doc id), docKey in content-keys.ts, as an account's own docs use K_g.
 * Grammar: PROTOCOL.md, "Membership records", format 3.
 */
import type * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import { AGREEMENT_KEY_BYTES } from '../device-chain/keys.js'
import { keyIdOf, KEY_ID_BYTES } from '../crypto/content-keys.js'
import { KEY_BOX_BYTES, openKey, sealKey, unwrapKey, WRAPPED_KEY_BYTES, wrapKey } from '../crypto/key-box.js'
import { DecryptError, UnknownEpochError } from '../errors.js'
import { MAX_ACCOUNT_ID_BYTES } from '../limits.js'
import * as wire from '../wire.js'

/** Epochs a chat may go through (each removal or member's revocation starts one): 256 × 72 bytes of wrapped keys at most. */
export const MAX_CHAT_EPOCHS = 256

/** K_e sealed to one member account. */
export interface ChatKeyBox {
  account: string
  /** The member account's key generation whose account key this box is sealed to. */
  generation: number
  /** That account key (an X25519 public key): a member learns the others' keys from here. */
  recipient: Uint8Array
  box: Uint8Array
}

export interface ChatKeys {
  /** ≥ 1; the epoch number a sealed blob of the chat names. */
  epoch: number
  /** keyIdOf(K_e): a member that opened its box checks it got the right key. */
  keyId: Uint8Array
  /** One per member account, in the record's member order. */
  boxes: ChatKeyBox[]
  /** K_1 … K_{e−1}, each wrapped under K_e (epoch − 1 entries). */
  previous: Uint8Array[]
}

/** What a box binds: the chat, the epoch and its key id, the recipient account and its generation. */
export function chatKeyBoxContext(docId: string, epoch: number, keyId: Uint8Array, account: string, generation: number): Uint8Array {
  return encoding.encode(e => {
    encoding.writeVarString(e, 'tandem/chat-key')
    encoding.writeVarString(e, docId)
    encoding.writeVarUint(e, epoch)
    encoding.writeUint8Array(e, keyId)
    encoding.writeVarString(e, account)
    encoding.writeVarUint(e, generation)
  })
}

function wrapContext(docId: string, epoch: number, under: number): Uint8Array {
  return encoding.encode(e => {
    encoding.writeVarString(e, 'tandem/chat-key-wrap')
    encoding.writeVarString(e, docId)
    encoding.writeVarUint(e, epoch)
    encoding.writeVarUint(e, under)
  })
}

/** A member account to seal to: its id, generation and account key of that generation. */
export interface ChatKeyRecipient {
  account: string
  generation: number
  accountKey: Uint8Array
}

/**
 * The key material of epoch `epoch` of chat doc `docId`: `key` (K_e) sealed to each
 * recipient, `older` (K_1 … K_{e−1}, in order) wrapped under it.
 */
export function sealChatKeys(
  docId: string,
  epoch: number,
  key: Uint8Array,
  recipients: readonly ChatKeyRecipient[],
  older: readonly Uint8Array[],
  random: (n: number) => Uint8Array
): ChatKeys {
  if (older.length !== epoch - 1) throw new RangeError(`epoch ${epoch} wraps ${epoch - 1} older keys, not ${older.length}`)
  const keyId = keyIdOf(key)
  const boxes = recipients.map(r => ({
    account: r.account,
    generation: r.generation,
    recipient: r.accountKey.slice(),
    box: sealKey(key, r.accountKey, chatKeyBoxContext(docId, epoch, keyId, r.account, r.generation), random)
  }))
  const previous = older.map((k, i) => wrapKey(k, key, wrapContext(docId, i + 1, epoch), random))
  return { epoch, keyId, boxes, previous }
}

/**
 * Every epoch key the record's material opens for `account`: K_1 … K_e (index = epoch − 1).
 * `accountSecret(generation)` is the account's X25519 secret of a generation, or null when
 * this device does not hold it (UnknownEpochError). DecryptError when a box or a wrap does
 * not open, or opens to another key than the one named.
 */
export function openChatKeys(
  docId: string,
  keys: ChatKeys,
  account: string,
  accountSecret: (generation: number) => { publicKey: Uint8Array; secretKey: Uint8Array } | null
): Uint8Array[] {
  const mine = keys.boxes.find(b => b.account === account)
  if (mine === undefined) throw new DecryptError(`epoch ${keys.epoch} of ${docId} is not sealed to account ${account}`)
  const pair = accountSecret(mine.generation)
  if (pair === null) throw new UnknownEpochError(`this device holds no key of generation ${mine.generation}, to which epoch ${keys.epoch} of ${docId} is sealed`)
  if (!wire.equalBytes(pair.publicKey, mine.recipient)) throw new DecryptError(`epoch ${keys.epoch} of ${docId} is sealed to another key than generation ${mine.generation}'s`)
  const key = openKey(mine.box, pair.secretKey, pair.publicKey, chatKeyBoxContext(docId, keys.epoch, keys.keyId, account, mine.generation))
  if (!wire.equalBytes(keyIdOf(key), keys.keyId)) throw new DecryptError(`the box of epoch ${keys.epoch} of ${docId} holds another key`)
  const all = keys.previous.map((wrapped, i) => unwrapKey(wrapped, key, wrapContext(docId, i + 1, keys.epoch)))
  all.push(key)
  return all
}

const accountOf = (keys: ChatKeys, account: string): ChatKeyBox | undefined => keys.boxes.find(b => b.account === account)
export { accountOf as chatKeyBoxOf }

/** Throws `errs.malformed` unless the boxes name exactly `members`, each once, and `previous` holds epoch − 1 wraps. */
export function checkChatKeys(members: readonly string[], keys: ChatKeys, errs: wire.WireErrors): void {
  if (keys.boxes.length !== members.length) throw errs.malformed(`keys: ${keys.boxes.length} boxes for ${members.length} members`)
  keys.boxes.forEach((b, i) => {
    if (b.account !== members[i]) throw errs.malformed(`keys: box ${i} is for ${JSON.stringify(b.account)}, not the member in that place`)
  })
  if (keys.previous.length !== keys.epoch - 1) throw errs.malformed(`keys: epoch ${keys.epoch} wraps ${keys.epoch - 1} older keys, not ${keys.previous.length}`)
}

export function writeChatKeys(encoder: encoding.Encoder, keys: ChatKeys, errs: wire.WireErrors): void {
  if (typeof keys !== 'object' || keys === null) throw errs.malformed('keys: not an object')
  if (!Number.isSafeInteger(keys.epoch) || keys.epoch < 1 || keys.epoch > MAX_CHAT_EPOCHS) throw errs.malformed(`keys: epoch must be 1 … ${MAX_CHAT_EPOCHS}`)
  wire.writeUint(encoder, 'keys.epoch', keys.epoch, errs)
  wire.writeFixedBytes(encoder, 'keys.keyId', keys.keyId, KEY_ID_BYTES, errs)
  if (!Array.isArray(keys.boxes) || !Array.isArray(keys.previous)) throw errs.malformed('keys: boxes and previous are arrays')
  // (the count is the members' count, checked by checkChatKeys: not written twice)
  for (const b of keys.boxes) {
    wire.writeString(encoder, 'box.account', b.account, MAX_ACCOUNT_ID_BYTES, errs)
    if (!Number.isSafeInteger(b.generation) || b.generation < 1) throw errs.malformed('box.generation must be ≥ 1')
    wire.writeUint(encoder, 'box.generation', b.generation, errs)
    wire.writeFixedBytes(encoder, 'box.recipient', b.recipient, AGREEMENT_KEY_BYTES, errs)
    wire.writeFixedBytes(encoder, 'box.box', b.box, KEY_BOX_BYTES, errs)
  }
  for (const w of keys.previous) wire.writeFixedBytes(encoder, 'previous', w, WRAPPED_KEY_BYTES, errs)
}

/** Reads the key material of a record with `members` (one box each, in order). */
export function readChatKeys(decoder: decoding.Decoder, members: readonly string[], errs: wire.WireErrors): ChatKeys {
  const epoch = wire.readUint(decoder, 'keys.epoch', errs)
  if (epoch < 1 || epoch > MAX_CHAT_EPOCHS) throw errs.malformed(`keys: epoch must be 1 … ${MAX_CHAT_EPOCHS}`)
  const keyId = wire.readFixedBytes(decoder, 'keys.keyId', KEY_ID_BYTES, errs).slice()
  const boxes: ChatKeyBox[] = []
  for (let i = 0; i < members.length; i++) {
    const account = wire.readString(decoder, 'box.account', MAX_ACCOUNT_ID_BYTES, errs)
    const generation = wire.readUint(decoder, 'box.generation', errs)
    if (generation < 1) throw errs.malformed('box.generation must be ≥ 1')
    const recipient = wire.readFixedBytes(decoder, 'box.recipient', AGREEMENT_KEY_BYTES, errs).slice()
    const box = wire.readFixedBytes(decoder, 'box.box', KEY_BOX_BYTES, errs).slice()
    boxes.push({ account, generation, recipient, box })
  }
  const previous: Uint8Array[] = []
  for (let i = 1; i < epoch; i++) previous.push(wire.readFixedBytes(decoder, 'previous', WRAPPED_KEY_BYTES, errs).slice())
  const keys = { epoch, keyId, boxes, previous }
  checkChatKeys(members, keys, errs)
  return keys
}
