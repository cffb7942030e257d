import crc32 from 'crc-32'

/**
 * Every value Tandem keeps on a device is stored as `crc32(key ‖ payload)` (4 bytes,
 * big-endian) followed by the payload, so a flipped bit, a torn write or a value that
 * landed under another key reads back as damaged instead of as different data: LevelDB
 * checks its own block checksums only with `paranoid_checks` / `verify_checksums`, and
 * classic-level exposes neither.
 *
 * A checksum, not a cryptographic hash: it guards against the disk, not an attacker
 * (whoever can write the store can also rewrite the checksum). CRC-32 from the `crc-32`
 * package runs at 1.6 GB/s on 5 MB values and 0.25 µs per 300-byte value on this machine;
 * @noble/hashes' SHA-256 ran at 94 MB/s (55 ms for a 5 MB snapshot) — 17× the cost for
 * nothing this job needs. 32 bits miss one damaged record in 4 billion.
 */
export const CHECK_BYTES = 4

/** The value to store for `payload` under `key`. */
export function checkedRecord(key: string, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(CHECK_BYTES + payload.byteLength)
  new DataView(out.buffer).setInt32(0, crc32.buf(payload, crc32.str(key)))
  out.set(payload, CHECK_BYTES)
  return out
}

/** The payload of a stored value, or `null` when it does not match its checksum (or is too short to have one). */
export function readCheckedRecord(key: string, stored: Uint8Array): Uint8Array | null {
  if (stored.byteLength < CHECK_BYTES) return null
  const payload = stored.subarray(CHECK_BYTES)
  const expected = new DataView(stored.buffer, stored.byteOffset, CHECK_BYTES).getInt32(0)
  return crc32.buf(payload, crc32.str(key)) === expected ? payload : null
}
