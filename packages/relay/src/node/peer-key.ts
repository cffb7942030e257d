import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { link, mkdir, open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { RelayConfigError } from './errors.js'

export const PEER_KEY_FILE = 'peer-key'

/**
 * Reads the relay's libp2p key from `<dataDir>/peer-key` (protobuf, as
 * privateKeyToProtobuf writes it), or makes an Ed25519 key and writes it
 * there (mode 0600, fsynced, linked into place) on first start. A file that
 * exists but does not parse is an error, never silently replaced: the relay's
 * peer id is in every device's configuration.
 */
export async function loadOrCreatePeerKey(dataDir: string): Promise<{ privateKey: PrivateKey; created: boolean }> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  const path = join(dataDir, PEER_KEY_FILE)
  let bytes: Uint8Array | undefined
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new RelayConfigError(`cannot read ${path}`, { cause: err })
  }
  if (bytes !== undefined) {
    let privateKey: PrivateKey
    try {
      privateKey = privateKeyFromProtobuf(bytes)
    } catch (err) {
      throw new RelayConfigError(`${path} is not a libp2p private key; move it away to make a new relay identity`, { cause: err })
    }
    await checkKeyPair(privateKey, path)
    return { privateKey, created: false }
  }
  const privateKey = await generateKeyPair('Ed25519')
  const tmp = `${path}.${process.pid}.tmp`
  const fh = await open(tmp, 'wx', 0o600)
  try {
    await fh.writeFile(privateKeyToProtobuf(privateKey))
    await fh.sync()
  } catch (err) {
    await fh.close()
    await rm(tmp, { force: true })
    throw err
  }
  await fh.close()
  // link, not rename: if another process made the key meanwhile, keep theirs
  try {
    await link(tmp, path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    await rm(tmp, { force: true })
    return { privateKey: privateKeyFromProtobuf(await readFile(path)), created: false }
  }
  await rm(tmp, { force: true })
  const dir = await open(dataDir, 'r')
  try {
    await dir.sync()
  } finally {
    await dir.close()
  }
  return { privateKey, created: true }
}

/**
 * The key file keeps both halves (an Ed25519 key is stored as seed + public key), and nothing
 * in the format ties them: with a few bytes of the private half damaged the relay started,
 * `/healthz` said ok, and no device could ever finish a Noise handshake with it (it signed
 * with one key and claimed another's peer id). A signature made with the private half must
 * verify under the public half, or the relay does not start.
 */
async function checkKeyPair(key: PrivateKey, path: string): Promise<void> {
  const probe = new TextEncoder().encode('tandem-relay: does the private half match the public half?')
  if (await key.publicKey.verify(probe, await key.sign(probe))) return
  throw new RelayConfigError(
    `${path} is damaged: its private half does not match its public half (peer id ${key.publicKey.toString()}); ` +
      'restore it from a backup, or move it away to make a new relay identity (every device then needs the new relay address)'
  )
}
